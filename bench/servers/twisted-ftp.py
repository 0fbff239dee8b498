# Real Twisted's FTP server (twisted.protocols.ftp, epoll reactor) on 127.0.0.1:<port>,
# serving ROOT: user `bench` with password `bench` gets ROOT as home, read and write.
# Usage: twisted-ftp.py PORT ROOT
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.cred import checkers, credentials, error, portal  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.protocols import ftp  # noqa: E402
from twisted.python import filepath  # noqa: E402
from zope.interface import implementer  # noqa: E402


@implementer(checkers.ICredentialsChecker)
class BenchUser:
    """bench/bench (twisted.protocols.ftp hands over str, the in-memory database wants bytes)."""

    credentialInterfaces = (credentials.IUsernamePassword,)

    def requestAvatarId(self, creds):
        if creds.username in ("bench", b"bench") and creds.password in ("bench", b"bench"):
            return defer.succeed("bench")
        return defer.fail(error.UnauthorizedLogin())


class RootRealm(ftp.BaseFTPRealm):
    def getHomeDirectory(self, avatarId):
        return filepath.FilePath(sys.argv[2])


factory = ftp.FTPFactory(portal.Portal(RootRealm(sys.argv[2]), [BenchUser()]))
factory.noisy = False
reactor.listenTCP(int(sys.argv[1]), factory, backlog=511, interface="127.0.0.1")
reactor.run()
