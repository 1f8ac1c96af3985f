module banyan/candidate

go 1.27

// Third-party modules come from Debian's golang-*-dev packages, never a module proxy
// (GOPROXY=off): `make go-deps` (banyan/godeps.py) fetches the pinned .deb, checks its SHA-256
// and unpacks it under ../.cache/debian-go, where these replace directives point.
require github.com/gorilla/websocket v1.5.0

replace github.com/gorilla/websocket => ../.cache/debian-go/golang-github-gorilla-websocket-dev_1.5.0-2/usr/share/gocode/src/github.com/gorilla/websocket
