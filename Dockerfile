# A PollMasters node: the server as `pnpm start` runs it (README, "Run a cluster" has the
# compose.yaml that runs three of them on PostgreSQL and Redis).
FROM node:20-bookworm
RUN npm i -g pnpm@10.34.9
WORKDIR /opt/pollmasters
COPY . .
# better-sqlite3 and the worker's vote cipher are compiled here (the image has python3, make
# and g++); the build makes
# packages/*/dist and the dashboard, so that the container starts without building.
RUN pnpm install --frozen-lockfile && pnpm build
ENV HOST=0.0.0.0 PORT=3000 POLLMASTERS_DATA_DIR=/var/lib/pollmasters
EXPOSE 3000
# The exec form: the server is PID 1's child-free self and gets the SIGTERM of `docker stop`,
# hands its sessions over to the other nodes and exits 0 (README, "Stopping").
CMD ["bin/pollmasters"]
