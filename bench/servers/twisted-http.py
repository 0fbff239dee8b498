# Real Twisted's twisted.web hello server (epoll reactor) on 127.0.0.1:<port>: `hello world`.
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import reactor  # noqa: E402
from twisted.web import resource, server  # noqa: E402


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"hello world"


site = server.Site(Hello())
site.noisy = False
reactor.listenTCP(int(sys.argv[1]), site, backlog=511, interface="127.0.0.1")
reactor.run()
