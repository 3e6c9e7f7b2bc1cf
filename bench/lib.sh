# Shared by the bench scripts, which define die() and NGINX and source it.

# bench_start_nginx PREFIX URL: starts nginx on PREFIX/conf/nginx.conf in
# the background (NGINX_PID) and waits until URL answers; dies when nginx
# exits or does not answer within about 10 s.
bench_start_nginx() {
    "$NGINX" -p "$1/" -c conf/nginx.conf -e logs/error.log &
    NGINX_PID=$!
    for _ in $(seq 100); do
        curl -sf -o /dev/null --max-time 1 "$2" && return 0
        kill -0 "$NGINX_PID" 2> /dev/null \
            || die "nginx exited: $(tail -5 "$1/logs/error.log")"
        sleep 0.1
    done
    curl -sf -o /dev/null --max-time 1 "$2" || die "nginx does not answer on $2"
}

stop_pid() {    # <pid> <name>: QUIT (nginx) or TERM, then KILL after 5 s
    local pid=$1 name=$2 sig=$3
    kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null || true; return 0; }
    kill "-$sig" "$pid" 2> /dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then
        say "$name ($pid) did not stop in 5 s: KILL"
        kill -KILL "$pid" 2> /dev/null || true
    fi
    wait "$pid" 2> /dev/null || true
}

# bench_left_prefix: what a "SCENARIO=match bench/run.sh" left in
# bench/out/nginx, for the scripts that measure it again (startup.sh,
# rematch.sh): sets PREFIX, PORT (its conf's) and BASE; dies when there
# is no index there or when something already listens on that port.
bench_left_prefix() {
    PREFIX=$PWD/bench/out/nginx
    [[ -f $PREFIX/conf/nginx.conf && -f $PREFIX/store/vectors.mtv ]] \
        || die "no index in $PREFIX: run SCENARIO=match bench/run.sh first"
    PORT=$(sed -n 's/^ *listen *127\.0\.0\.1:\([0-9]*\);.*/\1/p' \
           "$PREFIX/conf/nginx.conf" | head -1)
    BASE=http://127.0.0.1:$PORT
    if curl -s -o /dev/null --max-time 1 "$BASE/ref"; then
        die "something already listens on $BASE"
    fi
}
