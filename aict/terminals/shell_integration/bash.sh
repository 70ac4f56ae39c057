# aict shell integration for bash: marks each command (its line, working directory and exit code)
# for the server's command history. The server starts bash with --rcfile pointing here (or, when it
# starts bash with --norc, sources it from the first PROMPT_COMMAND), so no file of the user's is
# edited; this file first reads what bash would have read itself. See docs/history.md.
#
# Marks: ESC ] 633 ; <kind> ; <nonce> [; <fields>] BEL, with kind
#   A  a prompt is shown
#   E  a command starts: <command line> ; <working directory>
#   D  the command finished: <exit code>
# Fields escape backslash as \\ and `;` and control characters as \xHH. The nonce is this
# terminal's own: marks without it (a file that holds some, printed with cat) are stripped by the
# server and record nothing.

if [[ -z "${__aict_nonce-}" && -n "${AICT_SHELL_NONCE-}" ]]; then  # once, and only when the server asked
__aict_nonce=$AICT_SHELL_NONCE
__aict_mode=${AICT_SHELL_STARTUP-rc}
__aict_base=${AICT_PROMPT_COMMAND-}  # the server's PROMPT_COMMAND (history -a), for bash --norc
__aict_running= __aict_at_prompt= __aict_next= __aict_out=
# Not handed down to the programs the shell runs.
builtin unset AICT_SHELL_NONCE AICT_SHELL_STARTUP AICT_PROMPT_COMMAND

case $__aict_mode in
    login)  # what `bash -l` reads (--rcfile cannot be combined with a login shell)
        if [ -r /etc/profile ]; then . /etc/profile; fi
        if [ -r ~/.bash_profile ]; then . ~/.bash_profile
        elif [ -r ~/.bash_login ]; then . ~/.bash_login
        elif [ -r ~/.profile ]; then . ~/.profile
        fi ;;
    rc)  # what an interactive bash reads after /etc/bash.bashrc (which it has read already)
        if [ -r ~/.bashrc ]; then . ~/.bashrc; fi ;;
esac  # norc: nothing (PROMPT_COMMAND brought us here)

__aict_controls=(01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d
                 1e 1f 7f)

__aict_escape() {  # $1 escaped into __aict_out, without a fork
    local s=${1//\\/\\\\} h c
    s=${s//;/\\x3b}
    if [[ $s == *[[:cntrl:]]* ]]; then
        for h in "${__aict_controls[@]}"; do
            builtin printf -v c "\\x$h"
            s=${s//"$c"/\\x$h}
        done
    fi
    __aict_out=$s
}

__aict_precmd() {  # first in PROMPT_COMMAND: $? is the command's exit code
    local code=$?
    __aict_at_prompt=
    if [[ -n $__aict_running ]]; then
        __aict_running=
        # The shell's own clock (bash 5), so a command's duration is not the host's reading delays
        builtin printf '\e]633;D;%s;%s;%s\a' "$__aict_nonce" "$code" "${EPOCHREALTIME-}"
    fi
    builtin return $code  # the rest of PROMPT_COMMAND sees the same $?
}

__aict_prompt() {  # last in PROMPT_COMMAND: the next DEBUG trap is the user's command
    local code=$?
    __aict_next=$HISTCMD  # the number the next line gets in the history, if bash keeps it
    __aict_at_prompt=1
    builtin printf '\e]633;A;%s\a' "$__aict_nonce"
    builtin return $code
}

__aict_preexec() {
    [[ -n $__aict_at_prompt ]] || builtin return 0
    __aict_at_prompt=
    [[ $BASH_COMMAND == __aict_precmd* ]] && builtin return 0  # an empty line: no command
    __aict_running=1
    local line
    if [[ $HISTCMD == "$__aict_next" ]]; then  # bash kept the line: the history has it whole
        line=$(HISTTIMEFORMAT= builtin history 1)
        [[ $line =~ ^[[:space:]]*[0-9]+\*?[[:space:]][[:space:]](.*)$ ]] && line=${BASH_REMATCH[1]}
    else  # not kept (HISTCONTROL ignorespace/ignoredups, set +o history): the first command bash runs
        line=$BASH_COMMAND
    fi
    # The server keeps 4096 characters: one more says the line was longer (a mark stays small).
    __aict_escape "${line:0:4097}"
    local command=$__aict_out
    __aict_escape "${PWD:0:4096}"
    builtin printf '\e]633;E;%s;%s;%s;%s\a' "$__aict_nonce" "$command" "$__aict_out" "${EPOCHREALTIME-}"
    builtin return 0
}

__aict_chained_debug=$(builtin trap -p DEBUG)
if [[ -n $__aict_chained_debug ]]; then  # a DEBUG trap of the user's runs after ours
    builtin eval "__aict_words=(${__aict_chained_debug})"  # trap -- '<its command>' DEBUG
    __aict_chained_debug=${__aict_words[2]}
    builtin unset __aict_words
    builtin trap '__aict_preexec; builtin eval "$__aict_chained_debug"' DEBUG
else
    builtin trap '__aict_preexec' DEBUG
fi

if [[ $__aict_mode == norc ]]; then
    PROMPT_COMMAND=$__aict_base
fi
if [[ -v PROMPT_COMMAND ]] && (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501 )) \
        && [[ ${PROMPT_COMMAND@a} == *a* ]]; then
    PROMPT_COMMAND=(__aict_precmd "${PROMPT_COMMAND[@]}" __aict_prompt)
else
    # Newlines, not `;`: the user's may end with one already.
    __aict_nl=$'\n'
    PROMPT_COMMAND="__aict_precmd$__aict_nl${PROMPT_COMMAND:+$PROMPT_COMMAND$__aict_nl}__aict_prompt"
fi
# Not exported any more: a bash started inside would run hooks it does not have.
builtin export -n PROMPT_COMMAND
if [[ $__aict_mode == norc ]]; then  # sourced from the first prompt's PROMPT_COMMAND: that prompt too
    builtin eval "$__aict_base"
    __aict_prompt
fi
fi
