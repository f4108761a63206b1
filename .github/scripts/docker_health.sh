#!/usr/bin/env bash
# Starts the control plane image and waits (at most 90 s) for Docker to report it healthy.
# Usage: docker_health.sh IMAGE
set -euo pipefail
image=${1:?usage: docker_health.sh IMAGE}
id=$(docker run -d --rm -v ftl-health-data:/data "$image")
trap 'docker logs "$id" || true; docker rm -f "$id" >/dev/null 2>&1 || true; docker volume rm ftl-health-data >/dev/null 2>&1 || true' EXIT
[ "$(docker inspect -f '{{.Config.User}}' "$id")" = "deno" ] || { echo "the image must run as the non-root user deno"; exit 1; }
for _ in $(seq 1 90); do
  state=$(docker inspect -f '{{.State.Health.Status}}' "$id")
  if [ "$state" = healthy ]; then echo "healthy"; exit 0; fi
  if [ "$state" = unhealthy ]; then echo "unhealthy"; exit 1; fi
  sleep 1
done
echo "not healthy after 90 s (last state: $state)"
exit 1
