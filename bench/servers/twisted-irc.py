# Real Twisted's IRC server (twisted.words.service, epoll reactor) on 127.0.0.1:<port>: an
# in-memory realm that makes users and channels on request, and a checker that lets any
# nick in with any password (twisted.words logs a client in at NICK when PASS came first).
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.cred import checkers, credentials, portal  # noqa: E402
from twisted.internet import defer, reactor  # noqa: E402
from twisted.words import service  # noqa: E402
from zope.interface import implementer  # noqa: E402


@implementer(checkers.ICredentialsChecker)
class AnyPassword:
    credentialInterfaces = (credentials.IUsernamePassword,)

    def requestAvatarId(self, creds):
        return defer.succeed(creds.username)


realm = service.InMemoryWordsRealm("irc.bench")
realm.createGroupOnRequest = True
factory = service.IRCFactory(realm, portal.Portal(realm, [AnyPassword()]))
factory.noisy = False
reactor.listenTCP(int(sys.argv[1]), factory, backlog=511, interface="127.0.0.1")
reactor.run()
