# aict shell integration for zsh (see ../bash.sh for the marks). The server starts zsh with ZDOTDIR
# pointing here; each of these files reads the user's own from AICT_USER_ZDOTDIR first.
if [[ -f $AICT_USER_ZDOTDIR/.zshenv && $AICT_USER_ZDOTDIR != $ZDOTDIR ]]; then
    __aict_zdotdir=$ZDOTDIR
    ZDOTDIR=$AICT_USER_ZDOTDIR
    . $AICT_USER_ZDOTDIR/.zshenv
    AICT_USER_ZDOTDIR=$ZDOTDIR  # the user's .zshenv may move ZDOTDIR: the other files follow it
    ZDOTDIR=$__aict_zdotdir
fi
