#!/usr/bin/env bash
# The main job: installs dependencies, builds, then validates every example
# graph and every corpus graph and draws one as Mermaid.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
YG=build/yamlgraph
CORPUS="$(cd .. && pwd)/shared/corpus/yamlgraph"
echo "== validating graphs/"
find graphs -name '*.yaml' -path '*graph*.yaml' -not -path '*/prompts/*' | sort | xargs -r "$YG" validate
if [ -d "$CORPUS" ]; then
  echo "== validating the YamlGraph corpus (33 of 35 load; 2 name missing subgraphs)"
  (cd "$CORPUS" && find examples -name '*.yaml' -not -path '*/prompts/*' -not -path '*/snippets/*' | sort \
     | xargs "$OLDPWD/$YG" validate) || true
  echo "== mermaid of the reflexion demo"
  (cd "$CORPUS" && "$OLDPWD/$YG" mermaid examples/demos/reflexion/graph.yaml)
fi
