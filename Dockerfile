# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and the native addons (raw-socket, netlink, and
# ipmpd's own: gratuitous ARP, rtnetlink events, kernel receive stamps, sd_notify, ARP probes; built by npm ci).
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json binding.gyp ./
COPY native ./native
COPY src ./src
# npm ci builds the addons (install) and compiles the TypeScript (prepare)
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Runtime stage: only what runs.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends iputils-arping && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/build/Release/garp.node /app/build/Release/nlevents.node /app/build/Release/icmpsock.node /app/build/Release/sdnotify.node /app/build/Release/arrival.node /app/build/Release/arpprobe.node ./build/Release/
COPY package.json ./
# uid 0 holding only what `docker run --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN`
# (or the DaemonSet) grants: unlike file capabilities on node for a non-root user, these
# survive no-new-privileges (test/scenarios/containerCapabilities.test.ts)
USER root
EXPOSE 9740
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:9740/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# --max-semi-space-size=4: see deploy/systemd/ipmpd.service
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/src/cli/main.js"]
CMD ["run", "--config.file", "/etc/ipmpd/ipmpd.yaml"]
