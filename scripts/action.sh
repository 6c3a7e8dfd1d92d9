#!/usr/bin/env bash
# The steps of the cronguard GitHub Action (action.yml runs them; tests/action.rs runs them
# the way a runner does). Inputs arrive as INPUT_* environment variables.
#
#   action.sh install   put cronguard on GITHUB_PATH: the release INPUT_VERSION (download,
#                       checksum verified), or built from the action's own source
#   action.sh run       `cronguard diff --base INPUT_BASE` on pull requests, `cronguard scan`
#                       otherwise: annotations, job summary, SARIF file, outputs
#
# Release contract (for `version`): the asset cronguard-<version>-<target>.tar.gz holds the
# `cronguard` binary at its top level, next to it cronguard-<version>-<target>.tar.gz.sha256
# holds its SHA-256 (the `sha256sum` line format).
set -euo pipefail

log_error() {
	# A workflow-command error annotation (the message is escaped the way the runner decodes it).
	local msg=$1
	msg=${msg//'%'/'%25'}
	msg=${msg//$'\r'/'%0D'}
	msg=${msg//$'\n'/'%0A'}
	echo "::error title=cronguard::$msg"
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{print $1}'
	else
		shasum -a 256 "$1" | awk '{print $1}'
	fi
}

target_triple() {
	local os=${RUNNER_OS:-$(uname -s)} arch=${RUNNER_ARCH:-$(uname -m)}
	case "$os/$arch" in
	Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
	Linux/ARM64 | Linux/aarch64) echo aarch64-unknown-linux-musl ;;
	macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
	macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
	*)
		log_error "no cronguard release binary for $os/$arch; leave \`version\` empty to build from source"
		return 1
		;;
	esac
}

do_install() {
	local version=${INPUT_VERSION:-}
	local root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/cronguard"
	mkdir -p "$root/bin"
	if [ -n "$version" ]; then
		version=${version#v}
		if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
			log_error "\`version\` must be a release version such as 0.2.0, not \`$version\`"
			return 1
		fi
		local target asset base dl
		target=$(target_triple)
		asset="cronguard-$version-$target.tar.gz"
		base="${CRONGUARD_RELEASE_BASE_URL:-https://github.com/cronguard/cronguard/releases/download}/v$version"
		dl=$(mktemp -d)
		if ! curl -fsSL --retry 3 -o "$dl/$asset" "$base/$asset" ||
			! curl -fsSL --retry 3 -o "$dl/$asset.sha256" "$base/$asset.sha256"; then
			log_error "cannot download $base/$asset (and its .sha256)"
			return 1
		fi
		local expected actual
		expected=$(awk 'NR == 1 {print tolower($1)}' "$dl/$asset.sha256")
		actual=$(sha256_of "$dl/$asset")
		if ! [[ $expected =~ ^[0-9a-f]{64}$ ]] || [ "$expected" != "$actual" ]; then
			log_error "checksum mismatch for $asset: expected ${expected:-nothing}, got $actual; not installing"
			return 1
		fi
		tar -xzf "$dl/$asset" -C "$dl" cronguard
		install -m 0755 "$dl/cronguard" "$root/bin/cronguard"
		rm -rf "$dl"
	else
		cargo install --locked --quiet --path "${GITHUB_ACTION_PATH:?}" --root "$root"
	fi
	echo "$root/bin" >>"${GITHUB_PATH:?}"
	"$root/bin/cronguard" --version
}

do_run() {
	local event=${GITHUB_EVENT_NAME:-} base=${INPUT_BASE:-}
	local fail_on=${INPUT_FAIL_ON:-high} format=${INPUT_FORMAT:-github}
	local sarif=${INPUT_SARIF_FILE:-cronguard.sarif} config=${INPUT_CONFIG:-}
	local paths=() line
	while IFS= read -r line; do
		line=${line#"${line%%[![:space:]]*}"}
		line=${line%"${line##*[![:space:]]}"}
		[ -n "$line" ] && paths+=("$line")
	done <<<"${INPUT_PATH:-.}"
	[ ${#paths[@]} -gt 0 ] || paths=(.)

	local cmd=()
	if [[ $event == pull_request* ]] && [ -n "$base" ]; then
		if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
			# A shallow checkout: fetch the base commit (fetch-depth: 0 avoids this).
			git fetch --no-tags --quiet origin "$base" 2>/dev/null || true
		fi
		cmd=(diff --base "$base")
	else
		cmd=(scan)
	fi
	local opts=(--fail-on "$fail_on")
	[ -z "$config" ] || opts+=(--config "$config")

	# 1. The SARIF file: complete whatever the severities (exit 1 only means findings).
	local rc=0
	cronguard "${cmd[@]}" "${opts[@]}" --format sarif -- "${paths[@]}" >"$sarif" || rc=$?
	if [ "$rc" -gt 1 ]; then
		log_error "cronguard ${cmd[0]} failed (exit $rc); see the log above"
		return "$rc"
	fi

	# 2. The log (annotations by default) and the job summary; this run's exit is the step's.
	local summary=()
	[ -z "${GITHUB_STEP_SUMMARY:-}" ] || summary=(--summary "$GITHUB_STEP_SUMMARY")
	rc=0
	cronguard "${cmd[@]}" "${opts[@]}" --format "$format" ${summary[@]+"${summary[@]}"} -- "${paths[@]}" || rc=$?

	# 3. Outputs: active (not suppressed) findings, counted in the SARIF file.
	local count
	if command -v jq >/dev/null 2>&1; then
		count=$(jq '[.runs[].results[] | select((.suppressions // []) | length == 0)] | length' "$sarif")
	else
		count=$(python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["runs"][0]["results"] if not r.get("suppressions")))' "$sarif")
	fi
	{
		echo "findings=$count"
		echo "sarif-file=$sarif"
	} >>"${GITHUB_OUTPUT:?}"
	return "$rc"
}

case "${1:-}" in
install) do_install ;;
run) do_run ;;
*)
	echo "usage: $0 install|run" >&2
	exit 2
	;;
esac
