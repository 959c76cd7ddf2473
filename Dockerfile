# Multi-stage build of the one ratioguard binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ratioguard ./cmd/ratioguard

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ratioguard /ratioguard
USER nonroot:nonroot
ENTRYPOINT ["/ratioguard"]
