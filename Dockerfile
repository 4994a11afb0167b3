# Keyship api and worker image. Multi-stage: dependencies are installed in a build stage; the
# runtime stage holds only what runs, as a non-root user.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The Temporal executables are for local runs and tests; production talks to a Temporal cluster.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY api ./api
COPY activities ./activities
COPY catalog ./catalog
COPY config ./config
COPY db ./db
COPY mail-templates ./mail-templates
COPY paypal ./paypal
COPY worker ./worker
COPY workflows ./workflows
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/main.ts"]
