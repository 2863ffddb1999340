# syntax=docker/dockerfile:1
# Keel in a container: the native (Native AOT) keel binary on the smallest .NET base image, run as a non-root user.
#   docker build -t keel .
#   docker run --rm -p 127.0.0.1:8080:8080 -e KEEL__SERVER__TOKENS__ADMIN__TOKEN=… -e KEEL__SERVER__TOKENS__ADMIN__SCOPE=trade keel
# deploy/compose.yaml runs it with PostgreSQL; docs/deployment.md explains both.

# ---- build: the same publish the ./keel launcher does, for linux-x64 (or the builder's architecture) ----
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Native AOT links with clang and needs zlib's headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project files only, so a source change does not download packages again.
COPY global.json Directory.Build.props Directory.Packages.props Keel.slnx ./
COPY src/Keel.Domain/Keel.Domain.csproj src/Keel.Domain/
COPY src/Keel.Engine/Keel.Engine.csproj src/Keel.Engine/
COPY src/Keel.Data/Keel.Data.csproj src/Keel.Data/
COPY src/Keel.Indicators/Keel.Indicators.csproj src/Keel.Indicators/
COPY src/Keel.Strategies/Keel.Strategies.csproj src/Keel.Strategies/
COPY src/Keel.Storage/Keel.Storage.csproj src/Keel.Storage/
COPY src/Keel.Venues/Keel.Venues.csproj src/Keel.Venues/
COPY src/Keel.Sandbox/Keel.Sandbox.csproj src/Keel.Sandbox/
COPY src/Keel.Runtime/Keel.Runtime.csproj src/Keel.Runtime/
COPY src/Keel.Pipeline/Keel.Pipeline.csproj src/Keel.Pipeline/
COPY src/Keel.Server/Keel.Server.csproj src/Keel.Server/
COPY src/Keel.Cli/Keel.Cli.csproj src/Keel.Cli/
RUN dotnet restore src/Keel.Cli/Keel.Cli.csproj --use-current-runtime -p:PublishAot=true
COPY src/ src/
RUN dotnet publish src/Keel.Cli/Keel.Cli.csproj -c Release --use-current-runtime -p:PublishAot=true --no-restore -o /out \
 && rm -f /out/*.pdb /out/*.dbg /out/*.xml

# ---- run: glibc, OpenSSL and CA certificates only (no .NET runtime: the binary carries what it uses) ----
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS run
# The image's non-root user (uid 1654); the store and run outputs live in /data, a volume.
WORKDIR /app
COPY --from=build /out/ /app/
COPY samples/data/ /app/samples/data/
RUN mkdir -p /data && chown 1654:1654 /data
USER 1654
ENV KEEL__STORAGE__DB=/data/keel.db \
    KEEL__SERVER__URLS=http://0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
# SIGTERM stops runs cleanly (they can be resumed); give them the time they need.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/keel"]
CMD ["serve"]
