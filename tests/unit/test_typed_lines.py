"""Typed-line capture: a line is kept only when it was typed plainly and its echo came back."""

from aict.terminals.typed_lines import TypedLines


def capture():
    lines: list[str] = []
    return TypedLines(lambda line, at: lines.append(line)), lines


def type_with_echo(typed: TypedLines, keys: bytes, echo: bytes) -> None:
    typed.input(keys)
    typed.output(0, echo)


def test_a_line_typed_and_echoed_key_by_key_is_kept():
    typed, lines = capture()
    for key in b"ls -la":
        type_with_echo(typed, bytes([key]), bytes([key]))
    type_with_echo(typed, b"\r", b"\r\n")
    typed.output(0, b"total 0\r\n$ ")
    assert lines == ["ls -la"]


def test_backspace_and_ctrl_u_edit_the_line_as_the_echo_shows():
    typed, lines = capture()
    type_with_echo(typed, b"lx", b"lx")
    type_with_echo(typed, b"\x7f", b"\b\x1b[K")
    type_with_echo(typed, b"s", b"s")
    type_with_echo(typed, b"\r", b"\r\n")
    type_with_echo(typed, b"junk", b"junk")
    type_with_echo(typed, b"\x15", b"\r\x1b[K$ ")
    type_with_echo(typed, b"pwd\r", b"pwd\r\n/root\r\n")
    assert lines == ["ls", "pwd"]


def test_a_password_typed_without_echo_is_never_kept():
    typed, lines = capture()
    typed.output(0, b"[sudo] password for ada: ")
    typed.input(b"secret-pass")
    typed.input(b"\r")
    typed.output(0, b"\r\n")
    typed.output(0, b"secret-pass is what you typed?\r\n$ ")  # the program's output, not an echo
    assert lines == []


def test_a_line_echoed_as_stars_is_not_kept():
    typed, lines = capture()
    type_with_echo(typed, b"hunter2", b"*******")
    type_with_echo(typed, b"\r", b"\r\n")
    assert lines == []


def test_cursor_keys_tab_and_history_recall_give_the_line_up():
    for keys in (b"ls\x1b[D-l", b"gi\tstatus", b"\x1b[A", b"\x12ssh", b"echo a\x17b"):
        typed, lines = capture()
        type_with_echo(typed, keys, keys.replace(b"\x1b", b"").replace(b"\t", b"t "))
        type_with_echo(typed, b"\r", b"\r\n")
        assert lines == [], keys


def test_ctrl_c_drops_the_line_and_the_next_one_counts():
    typed, lines = capture()
    type_with_echo(typed, b"rm -rf x", b"rm -rf x")
    type_with_echo(typed, b"\x03", b"^C\r\n$ ")
    type_with_echo(typed, b"true\r", b"true\r\n")
    assert lines == ["true"]


def test_a_bracketed_paste_is_typing_unless_it_holds_a_newline():
    typed, lines = capture()
    type_with_echo(typed, b"\x1b[200~git log --oneline\x1b[201~", b"git log --oneline")
    type_with_echo(typed, b"\r", b"\r\n")
    type_with_echo(typed, b"\x1b[200~one\rtwo\x1b[201~", b"one\r\ntwo")
    type_with_echo(typed, b"\r", b"\r\n")
    assert lines == ["git log --oneline"]


def test_an_echo_that_arrives_after_enter_counts_until_the_first_newline():
    typed, lines = capture()
    typed.input(b"uname -a\r")
    typed.output(0, b"una")
    typed.output(0, b"me -a\r\nLinux\r\n")
    assert lines == ["uname -a"]


def test_utf8_lines_and_erasing_a_multibyte_character():
    typed, lines = capture()
    word = "café".encode()
    type_with_echo(typed, word + b"s", word + b"s")
    type_with_echo(typed, b"\x7f\x7f", b"\b\b\x1b[K")
    type_with_echo(typed, b"e\r", b"e\r\n")
    assert lines == ["cafe"]


def test_lines_typed_ahead_of_their_echo_are_kept_in_order():
    # A client sends a command and the next at once (a fast typist on a slow link): the second is
    # typed before the first one's echo; the shell draws it at its next prompt, after the output.
    typed, lines = capture()
    typed.input(b"echo one\r")
    typed.input(b"echo two\r")
    typed.output(0, b"echo one\r\none\r\n$ ")
    assert lines == ["echo one"]
    typed.output(0, b"echo two\r\ntwo\r\n$ ")
    assert lines == ["echo one", "echo two"]


def test_a_line_typed_ahead_is_reported_after_the_lines_before_it():
    typed, lines = capture()
    typed.input(b"make\r")
    typed.input(b"ls\r")
    typed.output(0, b"ma")  # the first line's echo has not finished: nothing is decided yet
    assert lines == []
    typed.output(0, b"ke\r\n")
    assert lines == ["make"]
    typed.output(0, b"$ ls\r\n")
    assert lines == ["make", "ls"]


def test_a_password_typed_ahead_of_its_prompt_is_never_kept():
    typed, lines = capture()
    typed.input(b"sudo -k true\r")
    typed.input(b"hunter-2\r")  # typed before sudo asked, never echoed
    typed.input(b"echo done\r")
    typed.output(0, b"sudo -k true\r\n[sudo] password for ada: \r\n$ echo done\r\ndone\r\n$ ")
    assert lines == ["sudo -k true", "echo done"]


def test_a_line_typed_ahead_and_printed_inside_a_row_is_not_an_echo():
    typed, lines = capture()
    typed.input(b"cat notes\r")
    typed.input(b"s3cret\r")
    typed.output(0, b"cat notes\r\nthe word s3cret is in a row, not at its end\r\n$ ")
    assert lines == ["cat notes"]


def test_lines_waiting_for_an_echo_that_never_comes_are_given_up_on_within_the_budget():
    typed, lines = capture()
    typed.input(b"first\r")
    for n in range(40):  # more lines than are waited for
        typed.input(f"line-{n}\r".encode())
    typed.output(0, b"x" * (64 * 1024 + 1))
    typed.input(b"last\r")
    typed.output(0, b"$ last\r\n")
    assert lines == ["last"]
