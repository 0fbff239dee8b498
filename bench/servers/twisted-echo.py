# Real Twisted's echo server (Debian python3-twisted, epoll reactor) on 127.0.0.1:<port>.
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


factory = protocol.Factory.forProtocol(Echo)
factory.noisy = False
reactor.listenTCP(int(sys.argv[1]), factory, backlog=511, interface="127.0.0.1")
reactor.run()
