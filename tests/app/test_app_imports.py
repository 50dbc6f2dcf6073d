"""Opening the app never waits for torch: importing the app modules must not import it."""

import subprocess
import sys


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    return set(out.split())


def test_importing_the_app_package_imports_neither_textual_nor_torch():
    loaded = modules_after("import tutor.app")
    assert "torch" not in loaded
    assert "textual" not in loaded  # the CLI pays for Textual only when it opens the app


def test_importing_the_app_and_every_screen_does_not_import_torch():
    loaded = modules_after(
        "import tutor.app.app, tutor.app.screens.lesson, tutor.app.screens.lesson_list, "
        "tutor.app.screens.help, tutor.app.commands"
    )
    assert "textual" in loaded
    assert "torch" not in loaded


def test_the_first_screen_paints_before_torch_is_imported():
    # The app is built and its first screen composed with torch still absent; torch loads in a worker.
    code = """
import asyncio, sys
from tutor.app.app import TutorApp
from tutor.core.lesson.catalog import Catalog

seen = {}
class Probe(TutorApp):
    def _painted(self):
        seen['torch_at_first_paint'] = 'torch' in sys.modules
        super()._painted()

async def main():
    app = Probe(Catalog.load())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
asyncio.run(main())
print('FIRST_PAINT_TORCH', seen.get('torch_at_first_paint'))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "FIRST_PAINT_TORCH False" in out.stdout, out.stderr[-2000:]
