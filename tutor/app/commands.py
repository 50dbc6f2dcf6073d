"""The app's commands: one list drives the key bindings, the footer, the help screen and the palette."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.binding import ActiveBinding, Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

if TYPE_CHECKING:
    from textual.screen import Screen

    from tutor.app.services import TutorServices


@dataclass(frozen=True)
class Command:
    """One thing a learner can do: its keys, the action it runs, and how it is described."""

    id: str
    title: str        # the footer label and the palette's name for it
    help: str         # one sentence for the help screen and the palette
    keys: str         # Textual key names, comma-separated; the first is the one displayed
    action: str       # an action of the screen (or "app.quit")
    show: bool = True  # shown in the footer
    priority: bool = False  # keys no focused widget may swallow; never Enter, which must wait its turn

    @property
    def key_label(self) -> str:
        """The keys as a person reads them: 'F1 or ?'."""
        # F-keys read 'F2'; single letters stay as typed
        return " or ".join(_KEY_NAMES.get(k, k.upper() if len(k) == 2 else k) for k in self.keys.split(","))


_KEY_NAMES = {
    "question_mark": "?", "escape": "Esc", "enter": "Enter", "ctrl+q": "Ctrl+Q", "ctrl+p": "Ctrl+P",
    "pageup": "PgUp", "pagedown": "PgDn", "left_square_bracket": "[", "right_square_bracket": "]",
    "minus": "-", "plus": "+",
}


# Shared by every screen
HELP = Command("help", "Help", "Show every key of this screen", "f1,question_mark", "help")
# in a lesson '?' is something to type into the answer, so only F1 opens help there
HELP_F1 = Command("help", "Help", "Show every key of this screen", "f1", "help")
QUIT = Command("quit", "Quit", "Quit tutor (your progress is already saved)", "ctrl+q", "app.quit")
PALETTE = Command("palette", "Commands", "Search every command by name", "ctrl+p",
                  "app.command_palette", show=False)

# Lesson list
# Enter is not a priority key: a priority binding runs before keys already queued for the focused
# widget, so "1⏎" arriving in one read would check an empty answer. The widgets' own Submitted /
# OptionSelected events arrive in typing order instead.
OPEN = Command("open", "Open", "Open the highlighted lesson", "enter", "open_selected")
CONTINUE = Command("continue", "Continue", "Continue where you left off", "f2,c", "continue")
DRILL = Command("drill", "Drill", "Drill the highlighted topic with fresh numbers, endlessly", "f3,d", "drill")
REVIEW = Command("review", "Review", "Review the skills that are due, with fresh numbers", "f4,r", "review")

# Lesson
CHECK = Command("check", "Check", "Check the answer you typed", "enter", "check",
                show=False)
HINT = Command("hint", "Hint", "Show the next hint for this step", "f2", "hint")
REVEAL = Command("reveal", "Reveal", "Show the answer (asks first; recorded as revealed)", "f3", "reveal")
GRAPH = Command("graph", "Graph", "Show the computational graph with its values", "f4", "graph")
TRAIN = Command("train", "Train", "Plot the loss over SGD steps", "f5", "train")
PREV = Command("prev", "Prev", "Go to the previous step", "f6", "prev_step")
NEXT = Command("next", "Next", "Go to the next step", "f7", "next_step")
BACK = Command("back", "Back", "Back to the lesson list (your work is saved)", "escape", "back")
# Enter, PgUp/PgDn and Ctrl+P are left out of the lesson footer (80 columns hold the F-keys only);
# the help window lists them
SCROLL_UP = Command("scroll_up", "Scroll up", "Page up a long explanation, else the lesson text",
                    "pageup", "scroll_body(-1)", show=False)
SCROLL_DOWN = Command("scroll_down", "Scroll down", "Page down a long explanation, else the lesson text",
                      "pagedown", "scroll_body(1)", show=False)

# Graph and training views (F4 / F5 again go back, as Esc does)
CLOSE_GRAPH = Command("close_graph", "Back", "Back to the lesson", "escape,f4", "back")
REVEAL_NODE = Command("reveal_node", "Reveal", "Reveal the selected value or gradient (asks first; recorded as revealed)",
                      "f3", "reveal_node")
PREV_NODE = Command("prev_node", "Prev node", "Select the previous box to fill in (a node's value or gradient)", "f6", "move_node(-1)")
NEXT_NODE = Command("next_node", "Next node", "Select the next box to fill in (a node's value or gradient)", "f7,tab", "move_node(1)")
CLOSE_TRAIN = Command("close_train", "Back", "Back to the lesson", "escape,f5", "back")
LR_DOWN = Command("lr_down", "lr÷2", "Halve the learning rate", "f2,left_square_bracket", "lr(0.5)")
LR_UP = Command("lr_up", "lr×2", "Double the learning rate", "f3,right_square_bracket", "lr(2.0)")
STEPS_DOWN = Command("steps_down", "Steps−", "Halve the number of SGD steps", "f6,minus", "steps(0.5)")
STEPS_UP = Command("steps_up", "Steps+", "Double the number of SGD steps", "f7,plus", "steps(2.0)")

LOG_Y = Command("log_y", "Log y", "Switch the loss axis between linear and log", "l", "toggle_log")

# Modal screens
CLOSE = Command("close", "Close", "Close this window", "escape,f1", "close")
CONFIRM = Command("confirm", "Yes", "Confirm", "y,enter", "confirm", priority=True)
CANCEL = Command("cancel", "No", "Cancel", "n,escape", "cancel")


# The footer at a narrow width: shorter labels first, then whole keys left out (F1 lists them all),
# never a label cut in the middle of a word.
SHORT_TITLES = {"Prev node": "Prev", "Next node": "Next", "Steps−": "St−", "Steps+": "St+", "Reveal": "Show",
                "Commands": "Cmds"}
DROP_FIRST = ("quit", "prev_step", "move_node(-1)", "steps(0.5)", "toggle_log", "lr(0.5)", "train")
KEEP = ("help", "back", "close", "leave")


def fit_footer(active: dict[str, ActiveBinding], width: int,
               key_display: Callable[[Binding], str]) -> dict[str, ActiveBinding]:
    """The screen's active bindings as the footer should show them in `width` columns."""
    shown: dict[str, ActiveBinding] = {}
    for key, item in active.items():
        if item.binding.show and item.binding.action not in {b.binding.action for b in shown.values()}:
            shown[key] = item

    def needed(items: dict[str, ActiveBinding]) -> int:
        return sum(len(key_display(i.binding)) + 1 + len(i.binding.description) + 1 for i in items.values()) - 1

    if needed(shown) <= width - 1:
        return active
    out = dict(active)
    for key, item in shown.items():
        short = SHORT_TITLES.get(item.binding.description)
        if short:
            out[key] = shown[key] = item._replace(binding=dataclasses.replace(item.binding, description=short))
    order = [k for a in DROP_FIRST for k, i in shown.items() if i.binding.action.removeprefix("app.").removeprefix(
        "screen.") == a]
    order += [k for k in reversed(list(shown)) if k not in order
              and shown[k].binding.action.removeprefix("app.") not in KEEP]
    for key in order:
        if needed(shown) <= width - 1:
            break
        out[key] = shown.pop(key)._replace(binding=dataclasses.replace(active[key].binding, show=False))
    return out


def bindings(commands: Iterable[Command]) -> list[BindingType]:
    """A screen's bindings; 'app.' commands are left to the app, which binds them once for all screens."""
    return [_binding(c) for c in commands if not c.action.startswith("app.")]


def app_bindings(commands: Iterable[Command]) -> list[BindingType]:
    """The app's own bindings (quit), with priority so no focused widget can swallow them."""
    return [_binding(c, action=c.action.removeprefix("app."), priority=True) for c in commands]


def _binding(c: Command, action: str | None = None, priority: bool | None = None) -> Binding:
    # ids let a keymap rebind a command without touching this list
    return Binding(c.keys, action or c.action, c.title, show=c.show,
                   priority=c.priority if priority is None else priority, tooltip=c.help, id=c.id)


def screen_commands(screen: Screen) -> list[Command]:
    """The commands a screen offers now (hidden ones, like Train without [train], left out)."""
    commands = getattr(screen, "TUTOR_COMMANDS", ())
    out = []
    for c in commands:
        namespace, _, action = c.action.rpartition(".")
        name = action.split("(")[0]
        if namespace != "app" and screen.check_action(name, ()) is False:
            continue
        out.append(c)
    return out


class TutorCommands(Provider):
    """Palette entries: the current screen's commands, then 'Open lesson: …' for every lesson."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        entries: list[tuple[str, str, Callable[[], object]]] = []
        for c in screen_commands(screen):
            if c.id == PALETTE.id:
                continue
            entries.append((c.title, f"{c.key_label} · {c.help}", _runner(screen, c.action)))
        app = cast("TutorServices", self.app)  # Textual types a provider's app as any App
        for entry in app.catalog.entries:
            if entry.lesson is None:
                continue
            name = f"Open lesson: {entry.title}"
            entries.append((name, f"{entry.topic} · {entry.id}", _opener(app, entry.id)))
        return entries

    # Lesson titles, topics and ids come from files: every entry is handed to the palette as Content
    # (plain text), never as a string, which the palette would parse as markup ('[/x]' stops the
    # app; '[@click=app.quit]' binds an action to a click).

    async def discover(self) -> Hits:
        for name, help_text, callback in self._entries():
            yield DiscoveryHit(Content(name), callback, text=name, help=Content(help_text))  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._entries():
            score = max(matcher.match(name), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, highlighted(matcher, name), callback, text=name,
                          help=Content(help_text))  # type: ignore[arg-type]


def highlighted(matcher, name: str) -> Content:
    """The name as plain text with the letters the query matched styled (the matcher's own
    `highlight` reads the name as markup)."""
    content = Content(name)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, name)
    for offset in offsets:
        if not name[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def _runner(screen: Screen, action: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await screen.run_action(action)

    return run


def _opener(app: TutorServices, lesson_id: str) -> Callable[[], None]:
    def run() -> None:
        app.open_lesson(lesson_id)

    return run
