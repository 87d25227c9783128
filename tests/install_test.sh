#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build and run a small
# program against the installed headers and library through pkg-config.
set -u
CLI="$1"
BUILD_DIR="$(cd "$(dirname "$CLI")" && pwd)"
PREFIX="$(mktemp -d /tmp/yg-install-XXXXXX)"
trap 'rm -rf "$PREFIX"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }

cmake --install "$BUILD_DIR" --prefix "$PREFIX" >/dev/null 2>&1
check "cli installed" "[ -x '$PREFIX/bin/yamlgraph' ]"
check "public header installed" "[ -f '$PREFIX/include/yamlgraph/yamlgraph.h' ]"
check "no internal header installed" "[ ! -e '$PREFIX/include/yamlgraph/yg_graph.h' ]"
PCDIR="$(dirname "$(find "$PREFIX" -name yamlgraph.pc | head -1)")"
check "pkg-config file installed" "[ -f '$PCDIR/yamlgraph.pc' ]"

cat > "$PREFIX/demo.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <yamlgraph/yamlgraph.h>
int main(void)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode("{\"a\": [1, 2.5, \"x\"]}", 20, NULL, &err);
    if (!v) { fprintf(stderr, "%s\n", err.message); return 1; }
    char *s = yg_json_encode(v, false, NULL);
    int ok = strcmp(s, "{\"a\":[1,2.5,\"x\"]}") == 0;
    printf("%s %s\n", s, yg_strerror(YG_EPARSE));
    yg_value_destroy(&v);
    free(s);
    return ok ? 0 : 1;
}
C
CFLAGS="$(PKG_CONFIG_PATH="$PCDIR" pkg-config --cflags yamlgraph)"
# A sanitizer build's library needs the sanitizer runtime in the program too.
if grep -q '^YG_SANITIZE:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  CFLAGS="$CFLAGS -fsanitize=address,undefined"
fi
LIBS="$(PKG_CONFIG_PATH="$PCDIR" pkg-config --libs yamlgraph)"
check "compiles against installed library" \
  "cc -Wall -Werror -include stdlib.h $CFLAGS '$PREFIX/demo.c' -o '$PREFIX/demo' $LIBS"
check "runs against installed library" \
  "LD_LIBRARY_PATH='$PCDIR/..' '$PREFIX/demo' | grep -q 'YG_EPARSE'"
check "installed cli runs" "LD_LIBRARY_PATH='$PCDIR/..' '$PREFIX/bin/yamlgraph' --version | grep -q '^yamlgraph '"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
