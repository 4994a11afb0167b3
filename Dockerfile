# Keyship api and worker image (one image, two commands; see docker-compose.yml).
# Multi-stage: the build stage installs every dependency and compiles the TypeScript to plain
# JavaScript in dist/ (`npm run build`, which also prebuilds the workflow bundle); the runtime
# stage holds production dependencies only (no tsx, no TypeScript) and dist/, and runs plain
# `node dist/...` as the image's non-root `node` user.
# Node.js 24 LTS: the exact release package.json pins (devDependencies.node), which the tests run on.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall fetches the Temporal dev executables and the pinned Node.js,
# which the build does not use (this image's node is the same release).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY activities ./activities
COPY api ./api
COPY catalog ./catalog
COPY config ./config
COPY db ./db
COPY domain ./domain
COPY kinds ./kinds
COPY logging ./logging
COPY mail-templates ./mail-templates
COPY paypal ./paypal
COPY worker ./worker
COPY workflows ./workflows
# What `npm run build` runs, on this image's node (the npm script would look for the pinned one).
RUN node --import tsx scripts/build.ts

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# dist/ holds the compiled api, worker and migrations, the files they read (mail templates,
# PayPal's certificates, SQL migrations) and the prebuilt workflow bundle (dist/workflow-bundles).
COPY --from=build /app/dist ./dist
# The package store: a new named volume takes this folder's owner, so the api can add files.
RUN mkdir /files && chown node:node /files
USER node
# The api's port; the worker serves Prometheus metrics on WORKER_METRICS_PORT (9464).
EXPOSE 3000 9464
# Both processes drain on SIGTERM (SHUTDOWN_GRACE); give them that long in the orchestrator.
STOPSIGNAL SIGTERM
CMD ["node", "dist/api/main.js"]
