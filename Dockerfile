# Multi-stage build of the one ratioguard binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ratioguard ./cmd/ratioguard
# The tracker's disk spool: a named volume mounted here starts with this owner.
RUN mkdir -p /out/var/lib/ratioguard/spool

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ratioguard /ratioguard
COPY --from=build --chown=nonroot:nonroot /out/var/lib/ratioguard /var/lib/ratioguard
USER nonroot:nonroot
ENTRYPOINT ["/ratioguard"]
