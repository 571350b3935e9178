# Body of the SSM Run Command scan step. The document prepends TARGET_URL, REPORT_KEY, SCAN_MODE, COMMIT_ID,
# MAX_MINUTES (validated document parameters) and REPORT_BUCKET, AWS_REGION (fixed by Terraform).
set -euo pipefail

ZAP="http://127.0.0.1:8080"
ZAP_KEY="$(cat /etc/zap/api.key)"
DEADLINE=$(( $(date +%s) + MAX_MINUTES * 60 ))
REPORT_FILE="$(mktemp /var/lib/zap-scan/report.XXXXXX.json)"
trap 'rm -f "$REPORT_FILE"' EXIT

# The key goes to curl on stdin, so it never appears in a process listing.
zap_api() {
  local path="$1"
  shift
  printf 'header = "X-ZAP-API-Key: %s"\n' "$ZAP_KEY" | curl -fsS -K - --get "$ZAP$path" "$@"
}

past_deadline() {
  [ "$(date +%s)" -ge "$DEADLINE" ]
}

until zap_api /JSON/core/view/version/ >/dev/null 2>&1; do
  if past_deadline; then
    echo "ZAP daemon did not answer on $ZAP before the deadline" >&2
    exit 1
  fi
  sleep 5
done

# A fresh session per scan, so alerts of an earlier target never leak into this report.
zap_api /JSON/core/action/newSession/ --data-urlencode "overwrite=true" >/dev/null
zap_api /JSON/core/action/accessUrl/ --data-urlencode "url=$TARGET_URL" >/dev/null || true

wait_for() {
  local label="$1" status_path="$2" stop_path="$3" scan_id="$4" status
  while :; do
    status="$(zap_api "$status_path" --data-urlencode "scanId=$scan_id" | jq -r '.status')"
    [ "$status" = "100" ] && return 0
    if past_deadline; then
      zap_api "$stop_path" --data-urlencode "scanId=$scan_id" >/dev/null || true
      echo "$label did not finish within $MAX_MINUTES minutes (at $status%)" >&2
      exit 1
    fi
    sleep 5
  done
}

echo "Spidering $TARGET_URL"
spider_id="$(zap_api /JSON/spider/action/scan/ --data-urlencode "url=$TARGET_URL" --data-urlencode "recurse=true" | jq -r '.scan')"
wait_for spider /JSON/spider/view/status/ /JSON/spider/action/stop/ "$spider_id"

if [ "$SCAN_MODE" = "full" ]; then
  echo "Active scan of $TARGET_URL"
  ascan_id="$(zap_api /JSON/ascan/action/scan/ --data-urlencode "url=$TARGET_URL" --data-urlencode "recurse=true" | jq -r '.scan')"
  wait_for "active scan" /JSON/ascan/view/status/ /JSON/ascan/action/stop/ "$ascan_id"
fi

while [ "$(zap_api /JSON/pscan/view/recordsToScan/ | jq -r '.recordsToScan')" != "0" ]; do
  if past_deadline; then
    echo "Passive scan did not finish within $MAX_MINUTES minutes" >&2
    exit 1
  fi
  sleep 5
done

zap_api /OTHER/core/other/jsonreport/ -o "$REPORT_FILE"
jq -r '[.site[]?.alerts[]?] | group_by(.riskdesc) | map("\(.[0].riskdesc): \(length)") | .[]' "$REPORT_FILE"

metadata=()
if [ -n "$COMMIT_ID" ]; then
  metadata=(--metadata "commit=$COMMIT_ID")
fi
aws s3 cp "$REPORT_FILE" "s3://$REPORT_BUCKET/$REPORT_KEY" --region "$AWS_REGION" \
  --content-type application/json --only-show-errors "${metadata[@]}"
echo "Report uploaded to s3://$REPORT_BUCKET/$REPORT_KEY"
