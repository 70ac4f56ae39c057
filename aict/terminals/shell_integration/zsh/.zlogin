# aict shell integration for zsh: the user's own .zlogin (see .zshenv).
if [[ -f $AICT_USER_ZDOTDIR/.zlogin && $AICT_USER_ZDOTDIR != $ZDOTDIR ]]; then
    __aict_zdotdir=$ZDOTDIR
    ZDOTDIR=$AICT_USER_ZDOTDIR
    . $AICT_USER_ZDOTDIR/.zlogin
    ZDOTDIR=$__aict_zdotdir
fi
ZDOTDIR=$AICT_USER_ZDOTDIR  # startup is over: the user's ZDOTDIR from here on
