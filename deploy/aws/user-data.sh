#!/usr/bin/env bash
# EC2 user data for a fresh Debian 12 instance: builds the module from the
# repository, serves conf/alb.conf (or conf/cloudfront.conf) on port 8080
# under systemd, and makes the first API key.  deploy/aws/README.md says
# where each setting below comes from.  cloud-init runs it once, as root;
# its output is in /var/log/cloud-init-output.log.
set -euo pipefail

# --- settings: edit before launching -------------------------------------
REPO_URL=${REPO_URL:-https://git.example.com/matcher.git}   # this repo
REPO_REF=${REPO_REF:-main}
MATCHER_CONF=${MATCHER_CONF:-alb}         # alb, or cloudfront
MATCHER_VPC_CIDR=${MATCHER_VPC_CIDR:-10.0.0.0/16}
PORT=${PORT:-8080}                        # the target group's port
# --------------------------------------------------------------------------

case $MATCHER_CONF in
    alb|cloudfront) ;;
    *) echo "MATCHER_CONF must be alb or cloudfront" >&2; exit 2 ;;
esac

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q git ca-certificates curl openssl

install -d -m 0755 /opt/matcher
if [ ! -d /opt/matcher/.git ]; then
    git clone --branch "$REPO_REF" "$REPO_URL" /opt/matcher
fi
cd /opt/matcher

# the packages (Debian's nginx among them) and the module
deploy/install-deps.sh
make -s build

# Debian's nginx package starts its own server on port 80 with the
# default site; this instance serves only the matcher
systemctl disable --now nginx.service || true

# the data directory: the store, the index, logs; and the configuration
install -d -m 0755 /var/lib/matcher
install -d -m 0750 /etc/matcher

# the first key, an operator's (read and write): only its hash is kept in
# the key file; the key itself is left for the administrator, root-only
if [ ! -s /etc/matcher/keys ]; then
    key=$(openssl rand -hex 24)
    hash=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
    umask 077
    printf 'ops:read,write:%s\n' "$hash" > /etc/matcher/keys
    printf '%s\n' "$key" > /root/matcher-ops-key
    umask 022
    chmod 0644 /etc/matcher/keys    # hashes only; the workers read it
fi

cat > /etc/matcher/env <<EOF
MATCHER_CONF=$MATCHER_CONF
PORT=$PORT
DATA_DIR=/var/lib/matcher
MATCHER_KEYS_FILE=/etc/matcher/keys
MATCHER_VPC_CIDR=$MATCHER_VPC_CIDR
MATCHER_LISTEN_ADDR=0.0.0.0
MATCHER_CDN_RANGES=/etc/matcher/cdn-ranges.conf
EOF

# CloudFront's edge ranges, refreshed daily (conf/cloudfront.conf)
if [ "$MATCHER_CONF" = cloudfront ]; then
    deploy/aws/cdn-ranges.sh > /etc/matcher/cdn-ranges.tmp
    mv /etc/matcher/cdn-ranges.tmp /etc/matcher/cdn-ranges.conf

    cat > /etc/systemd/system/matcher-cdn-ranges.service <<'EOF'
[Unit]
Description=Refresh CloudFront's address ranges for the matcher

[Service]
Type=oneshot
ExecStart=/bin/sh -c '/opt/matcher/deploy/aws/cdn-ranges.sh > /etc/matcher/cdn-ranges.tmp && mv /etc/matcher/cdn-ranges.tmp /etc/matcher/cdn-ranges.conf && systemctl reload matcher'
EOF
    cat > /etc/systemd/system/matcher-cdn-ranges.timer <<'EOF'
[Unit]
Description=Refresh CloudFront's address ranges for the matcher daily

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
EOF
fi

# deploy/run.sh runs nginx in the foreground: systemd's main process is
# nginx's master, SIGHUP reloads it (keys, ranges), SIGQUIT stops it after
# the requests in flight
cat > /etc/systemd/system/matcher.service <<'EOF'
[Unit]
Description=Creator matcher (nginx with ngx_http_matcher_module)
Wants=network-online.target
After=network-online.target

[Service]
EnvironmentFile=/etc/matcher/env
ExecStart=/opt/matcher/deploy/run.sh
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGQUIT
TimeoutStopSec=30
Restart=on-failure
RestartSec=5
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
EOF

systemctl daemon-reload
systemctl enable --now matcher.service
if [ "$MATCHER_CONF" = cloudfront ]; then
    systemctl enable --now matcher-cdn-ranges.timer
fi

# the target group's health check, from the instance itself
for _ in $(seq 1 60); do
    if curl -fsS "http://127.0.0.1:$PORT/health" > /dev/null; then
        echo "matcher: serving $MATCHER_CONF on port $PORT"
        exit 0
    fi
    sleep 2
done
echo "matcher: /health did not answer; journalctl -u matcher" >&2
exit 1
