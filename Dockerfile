# The reference control plane as a container image: Deno's base image, a non-root user, the
# database in a volume, and a health check. Built (and on a release tag, pushed) by
# .github/workflows/release.yml; checked on every push by the `docker` job in ci.yml.
#
#   docker build -t ftl-control-plane .
#   docker run -p 127.0.0.1:8080:8080 -v ftl-data:/data ftl-control-plane
#
# It listens on 0.0.0.0:8080 inside the container; publish it behind a TLS reverse proxy
# (docs/control-plane.md) and pass --public-url with the proxy's URL.
FROM denoland/deno:2.9.6

WORKDIR /app
COPY deno.json deno.lock ./
COPY src ./src
# Every module and npm package is fetched at build time; at run time nothing is downloaded.
RUN deno cache --frozen src/control_plane/main.ts \
 && mkdir -p /data \
 && chown deno:deno /data

USER deno
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/', { signal: AbortSignal.timeout(4000) }); await r.body?.cancel(); Deno.exit(r.ok ? 0 : 1)"]
ENTRYPOINT ["deno", "run", "--cached-only", "--no-prompt", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "src/control_plane/main.ts"]
CMD ["--hostname", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
