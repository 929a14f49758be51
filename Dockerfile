# syntax=docker/dockerfile:1
# kevin-deploy: build with the dev toolchain, run on a slim current LTS as a non-root user.
# The sandbox (sandbox/: the local Cloudflare stand-in behind `npm start`, the demo and the tests)
# is compiled with the rest, because the tests use it, but the final stage does not copy it: the
# image runs the bot against Cloudflare only, and `serve` without a kevin-deploy.yml says so.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json vitest.config.ts ./
COPY bin ./bin
COPY commands ./commands
COPY src ./src
COPY sandbox ./sandbox
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=sqlite:/data/kevin-deploy.db
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
# The product only: no dist/sandbox, dist/test or dist/bench.
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/commands ./dist/commands
COPY --from=build /app/bin ./bin
COPY kevin-deploy.example.yml ./kevin-deploy.example.yml
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/kevin-deploy.js"]
CMD ["serve"]
