"""Packaging for maskfreevis.

Besides the Python package, the wheel ships ``configs/``, ``tools/`` and ``model-index.yml`` under
``maskfreevis/.mim/`` (copied for sdist/bdist_wheel, symlinked for a legacy ``setup.py develop``),
which is where ``mim train maskfreevis CONFIG`` / ``mim test maskfreevis CONFIG --checkpoint CKPT``
look.
"""

import os
import os.path as osp
import shutil
import sys
from typing import List

from setuptools import find_packages, setup

REPO_ROOT = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(REPO_ROOT, 'maskfreevis', 'version.py')) as handle:
        exec(compile(handle.read(), 'version.py', 'exec'), namespace)
    return namespace['__version__']


def read_requirements(path: str) -> List[str]:
    """Requirement lines of ``path``, following ``-r`` includes, without comments."""
    requirements = []
    with open(osp.join(REPO_ROOT, path)) as handle:
        for line in handle:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                included = osp.join(osp.dirname(path), line[3:].strip())
                requirements.extend(read_requirements(included))
            else:
                requirements.append(line)
    return requirements


def add_mim_extension() -> None:
    """Put configs/tools/model-index.yml into ``maskfreevis/.mim`` for ``mim train/test``."""
    if 'develop' in sys.argv:
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_root = osp.join(REPO_ROOT, 'maskfreevis', '.mim')
    os.makedirs(mim_root, exist_ok=True)
    for name in MIM_FILES:
        source = osp.join(REPO_ROOT, name)
        target = osp.join(mim_root, name)
        if osp.islink(target) or osp.isfile(target):
            os.remove(target)
        elif osp.isdir(target):
            shutil.rmtree(target)
        if mode == 'symlink':
            os.symlink(osp.relpath(source, mim_root), target)
        elif osp.isdir(source):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(source, target)


if __name__ == '__main__':
    add_mim_extension()
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as readme:
        long_description = readme.read()
    setup(
        name='maskfreevis',
        version=read_version(),
        description='Mask-free video instance segmentation (MaskFreeVIS) for OpenMMLab',
        long_description=long_description,
        long_description_content_type='text/markdown',
        license='Apache License 2.0',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'tests.*', 'projects')),
        include_package_data=True,
        zip_safe=False,
        # numpy 2 (numpy._core) is required; the numpy 2 that pip installs with the stack (2.4.6
        # when verified) requires Python >= 3.11. The CPU stack is verified on CPython 3.11; the
        # GPU check (docs/en/notes/gpu_check.md) installs it on the GPU machine's Python 3.12.
        python_requires='>=3.11',
        install_requires=read_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': read_requirements('requirements/tests.txt'),
            'optional': read_requirements('requirements/optional.txt'),
            'mim': ['openmim==0.3.9'] + read_requirements('requirements/mim.txt'),
        },
        classifiers=[
            'Programming Language :: Python :: 3.11',
            'License :: OSI Approved :: Apache Software License',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
    )
