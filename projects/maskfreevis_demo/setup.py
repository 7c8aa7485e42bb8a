"""Packaging for maskfreevis-demo: the MaskFreeVIS demo and the package's analyses.

The library (``maskfreevis``, the repository's root ``setup.py``) is what a user imports to train,
test and infer; this distribution holds what only the demo and the analysis tools use: the demo
data generators, the two-stage demo runner, and the benchmarks and checks behind
``tools/run_demo.py`` and ``tools/analysis_tools/`` (docs/en/advanced_guides/package_layout.md).
The Makefile installs it, editable, after the library: ``pip install --no-deps
--no-build-isolation -e projects/maskfreevis_demo``.
"""

from setuptools import find_packages, setup

if __name__ == '__main__':
    setup(
        name='maskfreevis-demo',
        version='0.1.0',
        description='The MaskFreeVIS demo (generated data, two-stage runner) and its analyses',
        license='Apache License 2.0',
        packages=find_packages(include=('maskfreevis_demo', 'maskfreevis_demo.*')),
        zip_safe=False,
        python_requires='>=3.11',
        # the library with its optional requirements: the demo's progress bars, GIFs and curves,
        # and its material (ImageNet weights and photographs read by path)
        install_requires=['maskfreevis[optional]'],
        classifiers=[
            'Programming Language :: Python :: 3.11',
            'License :: OSI Approved :: Apache Software License',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
    )
