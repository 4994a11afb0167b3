# Keyship api and worker image (one image, two commands; see docker-compose.yml).
# Multi-stage: dependencies are installed in a build stage; the runtime stage holds only what
# runs, as the image's non-root `node` user. TypeScript runs through tsx, as under npm start.
# Node.js 24 LTS: the exact release package.json pins (devDependencies.node), which the tests run on.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall fetches the Temporal dev executables, which production does
# not use (it talks to a Temporal cluster or Temporal Cloud).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY activities ./activities
COPY api ./api
COPY catalog ./catalog
COPY config ./config
COPY db ./db
COPY domain ./domain
COPY logging ./logging
COPY mail-templates ./mail-templates
COPY paypal ./paypal
COPY worker ./worker
COPY workflows ./workflows
# The workflow bundle, built once here (node_modules/.cache/keyship) so no worker runs webpack.
RUN node --import tsx worker/workflow-bundle.ts
# The package store: a new named volume takes this folder's owner, so the api can add files.
RUN mkdir /files && chown node:node /files
USER node
# The api's port; the worker serves Prometheus metrics on WORKER_METRICS_PORT (9464).
EXPOSE 3000 9464
# Both processes drain on SIGTERM (SHUTDOWN_GRACE); give them that long in the orchestrator.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "api/main.ts"]
