#!/bin/sh
# Make sure the Debian packages a make target needs are installed. Arguments name the needs:
#   venv  python3-venv (Debian's Python has no venv/ensurepip without it)
#   test  chromium (the browser test) and default-jre-headless (the Spark tests)
# As root this installs what is missing with apt-get; otherwise it says what to run, and fails.
set -eu
PYTHON="${PYTHON:-python3}"
missing=""
for need in "$@"; do
  case "$need" in
    venv) "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$missing python3-venv" ;;
    test)
      command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
      command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless" ;;
    *) echo "system-packages.sh: unknown need '$need'" >&2; exit 2 ;;
  esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing$missing with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
  exit 0
fi
echo "This needs the system packages:$missing" >&2
echo "Install them with:  sudo apt-get install$missing" >&2
echo "(make test-fast skips the browser and Spark tests, which need chromium and a Java runtime)" >&2
exit 1
