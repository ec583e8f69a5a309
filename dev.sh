#!/usr/bin/env bash
# AuraLink's two entry points for a fresh machine:
#   ./dev.sh demo   set up, then run the demo on embedded defaults
#   ./dev.sh test   set up, then lint, type-check and run the whole test suite
# Both are safe to run again: setup only does what is missing.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
# what AuraLink itself needs; the tests add real recordings (LibriVox, Asterisk prompts) and a browser
DEBIAN_PACKAGES=(libportaudio2 espeak-ng)
TEST_DEBIAN_PACKAGES=(pocketsphinx-testdata asterisk-core-sounds-en-wav asterisk-core-sounds-en asterisk-core-sounds-es-wav asterisk-core-sounds-es chromium)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_debian_packages() {
    command -v dpkg-query >/dev/null || { say "not Debian/Ubuntu: install $* yourself"; return; }
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return
    say "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_python() {
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$candidate"
            return
        fi
    done
    say "AuraLink needs Python 3.11 or newer" && exit 1
}

install_python_packages() {
    local extras=$1 stamp="$VENV/.installed-$1"
    local wanted
    wanted="$(sha256sum pyproject.toml | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return
    fi
    [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$(find_python)" -m venv "$VENV"; }
    say "installing AuraLink and its dependencies into $VENV ($extras)"
    "$VENV/bin/python" -m pip install -qq --upgrade pip
    "$VENV/bin/python" -m pip install -qq --editable ".[$extras]"
    if [[ $extras == *bench* ]]; then
        # the STT benchmark's anchor: only its LocalAgreement modules are used, which need numpy alone;
        # its declared dependencies (torch, fastapi, a model-hub client) are left out on purpose
        "$VENV/bin/python" -m pip install -qq --no-deps "whisperlivekit==0.2.26"
    fi
    echo "$wanted" >"$stamp"
}

generate_protos() {
    "$VENV/bin/python" -m protos.build >/dev/null 2>&1 || "$VENV/bin/python" -m protos.build
}

run_tests() {
    say "ruff"
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    say "mypy"
    "$VENV/bin/mypy"
    say "pytest"
    "$VENV/bin/pytest" "$@"
    # the whole suite (no pytest arguments, as CI runs it) ends with the benchmark gate
    if [ $# -eq 0 ]; then run_bench_gate; fi
}

# The quick engine figures of the previous commit and of this tree, side by side: fails on a regression.
# AURALINK_BENCH_GATE=0 skips it; its report goes to bench-report/.
run_bench_gate() {
    if [ "${AURALINK_BENCH_GATE:-1}" = "0" ]; then
        say "bench gate skipped: AURALINK_BENCH_GATE=0"
        return
    fi
    if ! git rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null 2>&1; then
        say "bench gate skipped: this checkout has no previous commit (HEAD~1) to compare with (a shallow clone?)"
        return
    fi
    say "bench gate: quick engine figures, HEAD~1 against this tree"
    "$VENV/bin/auralink" bench compare --base HEAD~1 --quick --base-env reuse --report bench-report engine
}

case "${1:-}" in
demo)
    install_debian_packages "${DEBIAN_PACKAGES[@]}"
    install_python_packages "demo"
    generate_protos
    shift
    exec "$VENV/bin/auralink" demo "$@"
    ;;
test)
    install_debian_packages "${DEBIAN_PACKAGES[@]}" "${TEST_DEBIAN_PACKAGES[@]}"
    install_python_packages "dev,bench"
    generate_protos
    shift
    run_tests "$@"
    ;;
*)
    echo "usage: ./dev.sh demo | ./dev.sh test [pytest arguments]" >&2
    exit 2
    ;;
esac
