# aict shell integration for zsh: the user's own .zshrc, then the hooks that mark each command
# (see ../bash.sh for the marks and docs/history.md for what they miss).
if [[ -f $AICT_USER_ZDOTDIR/.zshrc && $AICT_USER_ZDOTDIR != $ZDOTDIR ]]; then
    __aict_zdotdir=$ZDOTDIR
    ZDOTDIR=$AICT_USER_ZDOTDIR
    . $AICT_USER_ZDOTDIR/.zshrc
    ZDOTDIR=$__aict_zdotdir
fi

if [[ -z ${__aict_nonce-} && -n ${AICT_SHELL_NONCE-} ]]; then
    __aict_nonce=$AICT_SHELL_NONCE
    __aict_running=
    unset AICT_SHELL_NONCE  # not handed down to the programs the shell runs
    __aict_controls=(01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d
                     1e 1f 7f)

    __aict_escape() {  # $1 escaped into REPLY: \ as \\, `;` and control characters as \xHH
        local s=${1//\\/'\\'} h c
        s=${s//;/'\x3b'}
        for h in $__aict_controls; do
            builtin printf -v c "\\x$h"
            s=${s//$c/'\x'$h}
        done
        REPLY=$s
    }

    __aict_precmd() {  # first of precmd_functions: $? is the command's exit code
        local code=$?
        if [[ -n $__aict_running ]]; then
            __aict_running=
            builtin printf '\e]633;D;%s;%s;%s\a' "$__aict_nonce" "$code" "${EPOCHREALTIME-}"
        fi
        builtin printf '\e]633;A;%s\a' "$__aict_nonce"
        return $code
    }

    __aict_preexec() {  # $1: the line as typed, even when the history drops it; $3: aliases expanded
        __aict_running=1
        local line=${1:-$3}
        __aict_escape "${line[1,4097]}"  # the server keeps 4096 characters: one more says it was longer
        local command=$REPLY
        __aict_escape "${PWD[1,4096]}"
        builtin printf '\e]633;E;%s;%s;%s;%s\a' "$__aict_nonce" "$command" "$REPLY" "${EPOCHREALTIME-}"
    }

    autoload -Uz add-zsh-hook
    add-zsh-hook preexec __aict_preexec
    precmd_functions=(__aict_precmd ${precmd_functions:#__aict_precmd})
fi

if [[ ! -o login ]]; then
    ZDOTDIR=$AICT_USER_ZDOTDIR  # no .zlogin follows: the user's ZDOTDIR from here on
fi
