"""The documentation stays true to the tree: its links resolve, its command lines parse, its size
stays readable.

* Every relative link of README.md, docs/**/*.md, configs/**/README.md and projects/**/README.md
  points to an existing file, and a ``#anchor`` to a heading of that file (GitHub's slugs).
* Every command-line flag quoted next to a tool (``python tools/...py ... --flag``,
  ``demo/video_demo.py --flag``, ``python -m maskfreevis.... --flag``, ``python -m
  maskfreevis_demo.... --flag``, or a tool's bare file name) in one inline code span or one line of
  a code block exists in that tool's argparse parser. The parser is the one the tool builds: its
  ``parse_args`` (or ``main``) runs with ``parse_known_args`` replaced by a function that hands the
  parser back instead of parsing.
* README.md and configs/maskfreevis/README.md stay within 10 KB.
"""

import argparse
import glob
import importlib
import importlib.util
import os.path as osp
import re
from functools import lru_cache
from types import ModuleType
from typing import Dict, Iterator, List, Set, Tuple
from unittest import mock

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SIZE_LIMIT_BYTES = 10 * 1024
SIZE_LIMITED = ('README.md', 'configs/maskfreevis/README.md')
# tools whose import needs an optional dependency (requirements/optional.txt)
OPTIONAL_IMPORTS = {'gradio'}


def documentation_files() -> List[str]:
    """The checked markdown files, relative to the repository root."""
    patterns = ('README.md', 'docs/**/*.md', 'configs/**/README.md', 'projects/**/README.md')
    paths = set()
    for pattern in patterns:
        paths.update(glob.glob(osp.join(REPO_ROOT, pattern), recursive=True))
    return sorted(osp.relpath(path, REPO_ROOT) for path in paths)


DOCS = documentation_files()
FENCE = re.compile(r'^(```|~~~).*?^\1[ \t]*$', re.MULTILINE | re.DOTALL)
INLINE_LINK = re.compile(r'!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE_LINK = re.compile(r'^\s*\[[^\]]+\]:\s*(\S+)', re.MULTILINE)
INLINE_CODE = re.compile(r'`([^`]+)`')
HEADING = re.compile(r'^#{1,6}\s+(.+?)\s*#*\s*$', re.MULTILINE)


def read(relative_path: str) -> str:
    with open(osp.join(REPO_ROOT, relative_path), encoding='utf-8') as handle:
        return handle.read()


def split_fenced(text: str) -> Tuple[str, List[str]]:
    """(the text with fenced code blocks blanked, the blocks' bodies)."""
    blocks = [match.group(0).split('\n', 1)[1].rsplit('\n', 1)[0] for match in FENCE.finditer(text)]
    return FENCE.sub('', text), blocks


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link keeps its text
    return re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')


@lru_cache(maxsize=None)
def anchors(relative_path: str) -> Set[str]:
    """The anchors of a markdown file's headings (repeated headings get -1, -2, ...)."""
    prose, _ = split_fenced(read(relative_path))
    seen: Dict[str, int] = {}
    result = set()
    for match in HEADING.finditer(prose):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f'{base}-{count}')
    return result


def relative_links(relative_path: str) -> Iterator[str]:
    """The link targets of a file outside code, except web addresses."""
    prose, _ = split_fenced(read(relative_path))
    prose = INLINE_CODE.sub('', prose)
    for pattern in (INLINE_LINK, REFERENCE_LINK):
        for match in pattern.finditer(prose):
            target = match.group(1)
            if not re.match(r'^[a-z][a-z0-9+.-]*:', target, re.IGNORECASE):
                yield target


@pytest.mark.parametrize('doc', DOCS)
def test_relative_links_resolve(doc):
    broken = []
    for target in relative_links(doc):
        path, _, anchor = target.partition('#')
        resolved = (
            osp.normpath(osp.join(osp.dirname(doc), path)) if path else doc
        )  # '#anchor' alone: this file
        if not osp.exists(osp.join(REPO_ROOT, resolved)):
            broken.append(f'{target}: {resolved} does not exist')
        elif anchor and resolved.endswith('.md') and anchor not in anchors(resolved):
            broken.append(f'{target}: no heading of {resolved} has the anchor #{anchor}')
    assert not broken, f'{doc}: ' + '; '.join(broken)


REPO_PATH = re.compile(
    r'(?<![\w./-])((?:configs|tools|demo|projects|docs)/[\w./-]*\w\.(?:py|sh|md|yml))\b'
)


# named on purpose though absent: a bad-input example, and the two files the configs README's
# get-started example has the user write
EXAMPLE_PATHS = {
    'configs/nope.py',
    'configs/_base_/datasets/my_vis_box.py',
    'configs/maskfreevis/maskfreevis_r50_8xb2-6k_myvis.py',
}


@pytest.mark.parametrize('doc', DOCS)
def test_repository_paths_exist(doc):
    """Files named by their path (from the repository root, or from the document's folder, as in
    a project's README) exist, in prose, code spans and commands alike: a renamed config left
    stale names behind."""
    missing = sorted(
        path
        for path in set(REPO_PATH.findall(read(doc))) - EXAMPLE_PATHS
        if not osp.exists(osp.join(REPO_ROOT, path))
        and not osp.exists(osp.join(REPO_ROOT, osp.dirname(doc), path))
    )
    assert not missing, f'{doc}: {missing}'


def test_anchor_slugs_follow_github():
    assert slug('The demo (`make demo`)') == 'the-demo-make-demo'
    assert slug('Does it learn masks from boxes? Four supervisions') == (
        'does-it-learn-masks-from-boxes-four-supervisions'
    )
    assert slug('4. Your own dataset') == '4-your-own-dataset'


# --- command-line flags ---------------------------------------------------------------------

TOOL_FILES = sorted(
    osp.relpath(path, REPO_ROOT)
    for pattern in ('tools/**/*.py', 'demo/*.py', 'projects/*/*.py')
    for path in glob.glob(osp.join(REPO_ROOT, pattern), recursive=True)
    # a project's setup.py packages it, it is no tool
    if not osp.basename(path).startswith('_') and osp.basename(path) != 'setup.py'
)
TOOL_BY_NAME = {
    name: paths[0]
    for name, paths in (
        (name, [path for path in TOOL_FILES if osp.basename(path) == name])
        for name in {osp.basename(path) for path in TOOL_FILES}
    )
    if len(paths) == 1
}
TOOL = re.compile(
    r'(?<![\w./-])(?:'
    r'(?P<path>(?:tools|demo)/[\w./-]+?\.py|projects/[\w-]+/[\w-]+\.py)'
    r'|-m\s+(?P<module>maskfreevis(?:_demo)?(?:\.\w+)+)'
    r'|(?P<name>[\w-]+\.py)'
    r')(?![\w/-])'
)
FLAG = re.compile(r'(?<![\w./=-])(--?[A-Za-z][\w-]*)')
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
COMMAND_END = re.compile(r'\s(?:&&|\|\||;|\|)\s')


def command_texts(relative_path: str) -> Iterator[str]:
    """Inline code spans, and the logical lines of code blocks (continuations joined)."""
    prose, blocks = split_fenced(read(relative_path))
    for match in INLINE_CODE.finditer(prose):
        yield match.group(1).replace('\n', ' ')
    for block in blocks:
        yield from block.replace('\\\n', ' ').split('\n')


def tool_references(text: str) -> List[re.Match]:
    """The tools named in a command text."""
    return [
        match
        for match in TOOL.finditer(text)
        if match.group('path') or match.group('module') or match.group('name') in TOOL_BY_NAME
    ]


def tool_of(match: re.Match) -> str:
    return match.group('path') or match.group('module') or TOOL_BY_NAME[match.group('name')]


def quoted_flags(relative_path: str) -> Iterator[Tuple[str, str]]:
    """(tool, flag) for every flag quoted after a tool in one command ('' for the tool alone)."""
    for text in command_texts(relative_path):
        matches = tool_references(text)
        for index, match in enumerate(matches):
            tool = tool_of(match)
            end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
            arguments = text[match.end() : end]
            stop = COMMAND_END.search(arguments)
            arguments = arguments[: stop.start()] if stop else arguments
            flags = FLAG.findall(QUOTED.sub(' ', arguments))  # no flag inside a quoted value
            yield tool, ''
            for flag in flags:
                yield tool, flag


def sections(relative_path: str) -> Iterator[str]:
    """The file's text cut at its headings (code blocks kept inside their section)."""
    text = read(relative_path)
    fenced = [match.span() for match in FENCE.finditer(text)]
    starts = [0] + [
        match.start()
        for match in HEADING.finditer(text)
        if not any(begin <= match.start() < end for begin, end in fenced)
    ]
    for begin, end in zip(starts, starts[1:] + [len(text)]):
        yield text[begin:end]


def section_flags(relative_path: str) -> Iterator[Tuple[Tuple[str, ...], str]]:
    """(the tools a section names, flag) for a flag quoted alone (a code span starting with it)
    in that section: it must belong to one of them."""
    for section in sections(relative_path):
        prose, blocks = split_fenced(section)
        spans = [match.group(1).replace('\n', ' ') for match in INLINE_CODE.finditer(prose)]
        tools = tuple(
            sorted({tool_of(match) for text in spans + blocks for match in tool_references(text)})
        )
        if not tools:
            continue
        for span in spans:
            flag = FLAG.match(span)
            if flag and not tool_references(span):
                yield tools, flag.group(1)


def import_tool(tool: str) -> ModuleType:
    """The module of a script path (imported by path) or of a dotted module name."""
    if not tool.endswith('.py'):
        return importlib.import_module(tool)
    name = 'maskfreevis_docs_' + re.sub(r'\W', '_', tool[:-3])
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO_ROOT, tool))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ParserBuilt(Exception):
    """Carries the parser a tool built, out of its parse_args / main."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__('parser built')
        self.parser = parser


def _hand_back_parser(parser, *args, **kwargs):
    raise ParserBuilt(parser)


@lru_cache(maxsize=None)
def tool_parser(tool: str) -> argparse.ArgumentParser:
    """The argparse parser ``tool`` builds (its ``parse_args``, else its ``main``)."""
    try:
        module = import_tool(tool)
    except ModuleNotFoundError as error:
        if error.name in OPTIONAL_IMPORTS:
            pytest.skip(f'{tool} needs the optional {error.name} (requirements/optional.txt)')
        raise
    entry = getattr(module, 'parse_args', None) or getattr(module, 'main')
    with mock.patch.object(argparse.ArgumentParser, 'parse_known_args', _hand_back_parser):
        try:
            entry([])
        except ParserBuilt as built:
            return built.parser
    raise AssertionError(f'{tool}: {entry.__name__}([]) returned without parsing arguments')


def flags_by_tool() -> Dict[str, Dict[str, Set[str]]]:
    """{tool: {flag: {files quoting it}}} over all documentation files ('' = no flag)."""
    found: Dict[str, Dict[str, Set[str]]] = {}
    for doc in DOCS:
        for tool, flag in quoted_flags(doc):
            found.setdefault(tool, {}).setdefault(flag, set()).add(doc)
    return found


FLAGS = flags_by_tool()


def test_docs_quote_tools_and_flags():
    """The extraction finds what the docs are known to quote (so the check below checks)."""
    assert {'--resume', '--work-dir', '--cfg-options'} <= set(FLAGS['tools/train.py'])
    assert {'--out', '--out-json', '--window'} <= set(FLAGS['demo/video_demo.py'])
    assert 'maskfreevis_demo.datasets.real_imagery' in FLAGS
    assert '--trust' in FLAGS['tools/model_converters/publish_model.py']


@pytest.mark.parametrize('tool', sorted(FLAGS))
def test_quoted_flags_exist_in_the_tools_parser(tool):
    if tool.endswith('.py'):
        assert osp.isfile(osp.join(REPO_ROOT, tool)), f'{tool} (quoted in {FLAGS[tool]}) is gone'
    parser = tool_parser(tool)
    # argparse keeps every option string of a parser in this mapping (no public accessor)
    known = set(parser._option_string_actions)
    unknown = {
        flag: sorted(docs) for flag, docs in FLAGS[tool].items() if flag and flag not in known
    }
    assert not unknown, f'{tool} has no such option: {unknown}'


def test_flags_quoted_alone_belong_to_a_tool_of_their_section():
    unknown = []
    for doc in DOCS:
        for tools, flag in section_flags(doc):
            if not any(flag in tool_parser(tool)._option_string_actions for tool in tools):
                unknown.append(f'{doc}: {flag} is an option of none of {", ".join(tools)}')
    assert not unknown, unknown


def test_a_flag_missing_from_the_parser_is_found(tmp_path):
    """The check itself: a quoted flag the tool lacks is reported."""
    assert 'tools/analysis_tools/compare_supervision.py' in FLAGS
    parser = tool_parser('tools/analysis_tools/compare_supervision.py')
    assert '--rerun' in parser._option_string_actions
    assert '--pretraining-dir' not in parser._option_string_actions
    doc = tmp_path / 'doc.md'
    doc.write_text(
        'See `python tools/analysis_tools/compare_supervision.py --pretraining-dir D`.\n'
        '```bash\npython tools/train.py CONFIG --resume \\\n    --work-dir W  # --amp\n```\n'
    )
    with mock.patch(f'{__name__}.REPO_ROOT', str(tmp_path)):
        quoted = list(quoted_flags('doc.md'))
    assert ('tools/analysis_tools/compare_supervision.py', '--pretraining-dir') in quoted
    assert {('tools/train.py', flag) for flag in ('--resume', '--work-dir', '--amp')} <= set(quoted)


# --- sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize('doc', SIZE_LIMITED)
def test_readme_size(doc):
    size = osp.getsize(osp.join(REPO_ROOT, doc))
    assert size <= SIZE_LIMIT_BYTES, (
        f'{doc} is {size} bytes (limit {SIZE_LIMIT_BYTES}): move detail into docs/en/'
    )
