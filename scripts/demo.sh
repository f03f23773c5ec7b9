#!/usr/bin/env bash
# make demo: start moto, seed the sample estate, and run `skymap serve` on it.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_PORT=${MOTO_PORT:-5055}
LISTEN=${LISTEN:-127.0.0.1:8080}
DEMO_DIR=.demo
mkdir -p "$DEMO_DIR"

if ! python3 -c 'import moto' 2>/dev/null; then
  echo "make demo: python3 cannot import moto; install moto[server] 5.x first" >&2
  exit 1
fi

python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$DEMO_DIR/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT INT TERM

export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

for _ in $(seq 1 100); do
  curl -fsS "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break
  kill -0 $MOTO_PID 2>/dev/null || { echo "moto died:"; tail -20 "$DEMO_DIR/moto.log"; exit 1; } >&2
  sleep 0.2
done

go build -o "$DEMO_DIR/seed" ./internal/awstest/seed
"$DEMO_DIR/seed" --endpoint "$AWS_ENDPOINT_URL"

# The sample applications' spans, as their OpenTelemetry SDKs would send
# them, once skymap answers and every 5 minutes.
"$DEMO_DIR/seed" --endpoint "$AWS_ENDPOINT_URL" --traces "http://$LISTEN/v1/traces" --every 5m >"$DEMO_DIR/traces.log" 2>&1 &
TRACES_PID=$!
trap 'kill $MOTO_PID $TRACES_PID 2>/dev/null || true' EXIT INT TERM

rm -rf "$DEMO_DIR/data"
echo "skymap serve: http://$LISTEN/api/components (Ctrl-C to stop)"
./bin/skymap serve --config scripts/demo.yaml --data "$DEMO_DIR/data" --listen "$LISTEN"
