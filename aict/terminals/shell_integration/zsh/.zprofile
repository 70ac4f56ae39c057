# aict shell integration for zsh: the user's own .zprofile (see .zshenv).
if [[ -f $AICT_USER_ZDOTDIR/.zprofile && $AICT_USER_ZDOTDIR != $ZDOTDIR ]]; then
    __aict_zdotdir=$ZDOTDIR
    ZDOTDIR=$AICT_USER_ZDOTDIR
    . $AICT_USER_ZDOTDIR/.zprofile
    ZDOTDIR=$__aict_zdotdir
fi
