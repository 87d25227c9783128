#!/usr/bin/env bash
# The main job: installs dependencies, builds, validates every example graph
# and every corpus graph, draws one as Mermaid, then runs example graphs end
# to end through the actor runtime (offline, with the mock provider): a
# router, a reflexion loop, a map fan-out, and an interview that pauses at
# interrupts and is resumed from its durable checkpoint file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
YG="$PWD/build/yamlgraph"
CORPUS="$(cd .. && pwd)/shared/corpus/yamlgraph"

echo "== validating graphs/"
"$YG" validate graphs/*/graph.yaml
if [ -d "$CORPUS" ]; then
  echo "== validating the YamlGraph corpus (33 of 35 load; 2 name missing subgraph files)"
  (cd "$CORPUS" && find examples -name '*.yaml' -not -path '*/prompts/*' -not -path '*/snippets/*' \
     | sort | xargs "$YG" validate) || true
  echo "== mermaid of the corpus reflexion demo"
  (cd "$CORPUS" && "$YG" mermaid examples/demos/reflexion/graph.yaml)
fi

echo "== running examples (mock provider, no API key needed)"
for g in router reflexion map; do
  echo "-- graphs/$g"
  "$YG" run "graphs/$g/graph.yaml" --mock "graphs/$g/mock.yaml" \
      --var topic="the actor model" --var message="I love this runtime!" --json
done

echo "-- graphs/interview: run, pause, resume twice from the checkpoint file"
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT
export YG_DATA_DIR="$DATA"
IV=(graphs/interview/graph.yaml --mock graphs/interview/mock.yaml --thread demo-1 --json)
"$YG" run "${IV[@]}"
"$YG" resume "${IV[@]}" --value Ada
"$YG" resume "${IV[@]}" --value "ZeroMQ actors"
echo "-- history of thread demo-1 (newest first, step numbers)"
"$YG" history --thread demo-1 graphs/interview/graph.yaml | python3 -c \
  'import json,sys; print([c.get("step") for c in json.load(sys.stdin)])'
