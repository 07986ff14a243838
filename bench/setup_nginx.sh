#!/usr/bin/env bash
# Serve Debian's python3.11-doc HTML tree with nginx on 127.0.0.1:PORT for the crawl benchmark.
#
#   bash bench/setup_nginx.sh [start]   install what is missing (root), start or reload, wait
#   bash bench/setup_nginx.sh stop      stop our nginx (only ours: found by its own pid file)
#   bash bench/setup_nginx.sh status    print whether it answers
#
# Environment: BENCH_NGINX_PORT (default 8901), BENCH_NGINX_DIR (default /tmp/linkwarehouse-bench-nginx-PORT),
# BENCH_DOC_ROOT (default /usr/share/doc/python3.11/html).
#
# Idempotent: packages are installed only when missing, `apt-get update` runs only when an install is
# needed, and a running instance is reloaded instead of started twice. nginx runs with our own
# config (`nginx -c`), pid file, logs and temp folders under /tmp, so the distro's default site and
# service are left alone.
set -euo pipefail

PORT="${BENCH_NGINX_PORT:-8901}"
RUN_DIR="${BENCH_NGINX_DIR:-/tmp/linkwarehouse-bench-nginx-${PORT}}"
DOC_ROOT="${BENCH_DOC_ROOT:-/usr/share/doc/python3.11/html}"
CONF="${RUN_DIR}/nginx.conf"
PID_FILE="${RUN_DIR}/nginx.pid"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

log() { echo "setup_nginx: $*" >&2; }

install_packages() {
    local missing=()
    for pkg in nginx python3.11-doc wget; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        log "missing packages: ${missing[*]}; run this script as root (it uses apt-get)"
        exit 1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Only refresh the package lists when the install cannot be resolved from the current ones.
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # Debian's nginx package starts the default site on port 80; we leave it as the distro wants.
}

check_symlinks() {
    # Debian doc packages replace bundled javascript with symlinks to /usr/share/javascript.
    # nginx follows symlinks by default (`disable_symlinks off`), so those files are served; a
    # dangling link would be a 404 for every crawler alike.
    local outside=0 dangling=0 link target
    while IFS= read -r -d '' link; do
        target="$(readlink -f "$link" || true)"
        if [[ -z "$target" || ! -e "$target" ]]; then
            dangling=$((dangling + 1))
            log "dangling symlink: $link -> $(readlink "$link")"
        elif [[ "$target" != "$DOC_ROOT"/* ]]; then
            outside=$((outside + 1))
        fi
    done < <(find "$DOC_ROOT" -type l -print0)
    log "symlinks pointing outside the doc root: ${outside} (served: disable_symlinks off), dangling: ${dangling}"
}

write_config() {
    mkdir -p "$RUN_DIR"/{client_body,proxy,fastcgi,uwsgi,scgi}
    cat >"${CONF}.tmp" <<EOF
# Written by bench/setup_nginx.sh: the crawl benchmark's own nginx, independent of the distro site.
worker_processes 1;
pid ${PID_FILE};
error_log ${RUN_DIR}/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 65;
    client_body_temp_path ${RUN_DIR}/client_body;
    proxy_temp_path ${RUN_DIR}/proxy;
    fastcgi_temp_path ${RUN_DIR}/fastcgi;
    uwsgi_temp_path ${RUN_DIR}/uwsgi;
    scgi_temp_path ${RUN_DIR}/scgi;
    server {
        listen 127.0.0.1:${PORT};
        server_name localhost;
        root ${DOC_ROOT};
        index index.html;
        disable_symlinks off;
        location / { try_files \$uri \$uri/ =404; }
    }
}
EOF
    mv "${CONF}.tmp" "$CONF"
}

our_pid() {
    # Prints the pid of our nginx master when it is alive; nothing otherwise.
    [[ -f "$PID_FILE" ]] || return 0
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
    fi
}

answers() {
    wget -q -O /dev/null --timeout=2 --tries=1 "http://127.0.0.1:${PORT}/index.html"
}

wait_until_answering() {
    for _ in $(seq 1 100); do
        if answers; then
            log "nginx answers on http://127.0.0.1:${PORT}/ (root ${DOC_ROOT}, pid $(our_pid))"
            return 0
        fi
        sleep 0.1
    done
    log "nginx did not answer on port ${PORT}; see ${RUN_DIR}/error.log"
    tail -n 20 "${RUN_DIR}/error.log" >&2 || true
    exit 1
}

start() {
    install_packages
    [[ -f "${DOC_ROOT}/index.html" ]] || { log "no ${DOC_ROOT}/index.html"; exit 1; }
    check_symlinks
    write_config
    "$NGINX" -t -q -c "$CONF" -e "${RUN_DIR}/error.log"
    local pid
    pid="$(our_pid)"
    if [[ -n "$pid" ]]; then
        log "already running (pid $pid): reloading the config"
        "$NGINX" -c "$CONF" -e "${RUN_DIR}/error.log" -s reload
        sleep 0.3
    else
        if answers; then
            log "port ${PORT} is already served by another process; pick another BENCH_NGINX_PORT"
            exit 1
        fi
        "$NGINX" -c "$CONF" -e "${RUN_DIR}/error.log"
    fi
    wait_until_answering
}

stop() {
    local pid
    pid="$(our_pid)"
    if [[ -z "$pid" ]]; then
        log "not running"
        return 0
    fi
    "$NGINX" -c "$CONF" -e "${RUN_DIR}/error.log" -s quit || kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || { log "stopped (pid $pid)"; return 0; }
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null || true
    log "stopped (pid $pid, TERM)"
}

status() {
    if answers; then
        echo "nginx answers on http://127.0.0.1:${PORT}/ (pid $(our_pid))"
    else
        echo "nginx is not answering on port ${PORT}"
        return 1
    fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
