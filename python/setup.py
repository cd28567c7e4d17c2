"""Builds the vastrack Python package: a cffi (API mode) binding to libvastrack.

The C library is linked in statically, from build/libvastrack_pic.a (position-
independent objects, the same ones build/libvastrack.so is made of), so the
installed module does not depend on the build tree or on an installed
libvastrack. Where the C sources are:

  VASTRACK_SRC    the vastrack source tree (default: the folder above this one,
                  or _csrc/ inside an sdist)
  VASTRACK_BUILD  its build folder (default: VASTRACK_SRC/build)

`make` is run in VASTRACK_SRC for the archive; when `make` has already run
there it only checks that everything is up to date. The system libraries come
from pkg-config, the modules of the Makefile's PKGS, as for the C build.
"""
import os
import shutil
import sys

from setuptools import setup
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
# What an sdist carries of the C tree to build the library itself.
C_TREE = ["Makefile", "include", "lib", "web", "tools", "vastrack.pc.in"]


class sdist_with_c(sdist):
    """An sdist that carries the C tree in _csrc/, so it builds without a checkout."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        sys.path.insert(0, HERE)
        from build_ffi import source_root
        root = source_root()
        dest = os.path.join(base_dir, "_csrc")
        for name in C_TREE:
            src = os.path.join(root, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(dest, name),
                                ignore=shutil.ignore_patterns("build", "*.o", "*.a"))
            elif os.path.exists(src):
                os.makedirs(dest, exist_ok=True)
                shutil.copy2(src, os.path.join(dest, name))


if "egg_info" in sys.argv or "sdist" in sys.argv or "--name" in sys.argv:
    cffi_modules = []  # metadata only: no C build
else:
    cffi_modules = ["build_ffi.py:ffibuilder"]

setup(
    name="vastrack",
    version="0.1.0",
    description="IAB VAST parsing, validation, wrapper resolution and tracking (libvastrack)",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    packages=["vastrack"],
    python_requires=">=3.8",
    setup_requires=["cffi>=1.15"],
    install_requires=["cffi>=1.15"],
    cffi_modules=cffi_modules,
    cmdclass={"sdist": sdist_with_c},
    zip_safe=False,
)
