# bash completion for the parley programs (parley-server, parley-client, parley-conform, parley-fuzz,
# parley-load). The first word is a protocol; the options are read from the program's own --help, so
# the completion knows every flag the installed version has and none it lacks.
_parley_complete() {
  local cur prev
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local protocols="itp securechat multiparty sslmessager peerchat"
  case "${COMP_WORDS[0]##*/}" in
    parley-conform) protocols="$protocols keys certs" ;;
    parley-load) protocols="$protocols irc" ;;
  esac
  if [[ $COMP_CWORD -eq 1 && $cur != -* ]]; then
    COMPREPLY=($(compgen -W "$protocols" -- "$cur"))
    return
  fi
  case "$prev" in
    --keys|--cases|--rules|--out|--dir|--corpus|--baseline-dir)
      COMPREPLY=($(compgen -d -- "$cur"))
      return ;;
    --cert|--key|--ca|--users|--pcap|--keylog|--json|--junit|--markdown|--html|--baseline|--report-json|--script|--password-file|--identity|--contacts|--server-key|--tls-cert|--tls-key)
      COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
  esac
  if [[ $cur == -* ]]; then
    local options
    options=$("${COMP_WORDS[0]}" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  fi
}
complete -F _parley_complete parley-server parley-client parley-conform parley-fuzz parley-load
