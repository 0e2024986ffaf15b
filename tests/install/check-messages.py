#!/usr/bin/env python3
"""Every message portwrap can print is listed in docs/troubleshooting.md.

The messages are taken from the source mechanically: the format (first argument) of
every log::error, log::notice and log::info call, and the message (first argument)
of every Error(...), throw_errno(...), describe_errno(...) and UsageError{...} in
src/*.cpp; the detail of every start-up failure report (the child's fail(SOCKET,
STAGE, ERR, DETAIL), ToParent::failed(STAGE, ERR, DETAIL) and StartError({STAGE,
ERR, DETAIL})); and every text the hint for a start-up failure can return (the
returns in src/start_failure.cpp before message()). Of each message, the fixed text between its variable parts (printf
conversions, or anything that is not a string literal) is kept; a part without a
letter, such as "': ", is dropped. A message is documented when one line of the
doc (backticks removed) holds all of its parts, in order. The doc writes the
variable parts as placeholders (PATH, N, <error>, X ...), which this ignores.

Exit status 1 lists exactly the messages that are missing, one per line, with
where they are made.

usage: check-messages.py SOURCE_ROOT
"""
import pathlib
import re
import sys

CALL = re.compile(r'\b(log::(?:error|notice|info)|throw_errno|describe_errno|Error|UsageError|fail|failed|StartError)'
                  r'\s*([({])')
# Which argument holds the message, where it is not the first.
MESSAGE_ARGUMENT = {'fail': 3, 'failed': 2}
PRINTF = re.compile(r'%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[diouxXeEfgGcsp%]')


def matching_end(text, start, open_char):
    """Index just past the bracket that closes text[start] (an open_char)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            i = skip_literal(text, i)
            continue
        if c in '({[':
            depth += 1
        elif c in ')}]':
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def skip_literal(text, i):
    quote = text[i]
    i += 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == '\\' else 1
    return i + 1


def first_argument(args):
    """The text of the first top-level argument of args (without the brackets)."""
    depth = 0
    i = 0
    while i < len(args):
        c = args[i]
        if c == '"' or c == "'":
            i = skip_literal(args, i)
            continue
        if c in '({[':
            depth += 1
        elif c in ')}]':
            depth -= 1
        elif c == ',' and depth == 0:
            return args[:i]
        i += 1
    return args


def nth_argument(args, n):
    """The text of the n-th (from 0) top-level argument of args."""
    for _ in range(n):
        first = first_argument(args)
        if len(first) == len(args):
            return ''
        args = args[len(first) + 1:]
    return first_argument(args)


def alternatives(expression):
    """A ternary 'c ? a : b' at the top level gives two messages; else one."""
    depth = 0
    i = 0
    question = None
    while i < len(expression):
        c = expression[i]
        if c == '"' or c == "'":
            i = skip_literal(expression, i)
            continue
        if c in '({[':
            depth += 1
        elif c in ')}]':
            depth -= 1
        elif depth == 0 and c == '?':
            question = i
        elif depth == 0 and c == ':' and question is not None and expression[i - 1:i + 1] != '::' \
                and expression[i:i + 2] != '::':
            return alternatives(expression[question + 1:i]) + alternatives(expression[i + 1:])
        i += 1
    return [expression]


def parts(expression, is_format):
    """The fixed pieces of text of a message expression, in order."""
    pieces = []
    current = ''
    i = 0
    while i < len(expression):
        c = expression[i]
        if c == '"':
            end = skip_literal(expression, i)
            literal = bytes(expression[i + 1:end - 1], 'utf-8').decode('unicode_escape')
            literal = literal.encode('latin-1').decode('utf-8')
            if is_format:
                current += PRINTF.sub('\0', literal.replace('%%', '%'))
            else:
                current += literal
            i = end
            continue
        if not c.isspace() and c != '+':
            if current:
                pieces.append(current)
                current = ''
            if not pieces or pieces[-1] != '\0':
                pieces.append('\0')  # a name, a call: a variable part
        i += 1
    if current:
        pieces.append(current)
    text = ''.join(pieces)
    return [p.strip() for p in text.split('\0') if re.search('[A-Za-z]', p)]


def messages(source_root):
    found = []
    for path in sorted((source_root / 'src').glob('*.cpp')):
        text = path.read_text()
        for call in CALL.finditer(text):
            name, bracket = call.group(1), call.group(2)
            if name == 'Error' and text[max(0, call.start() - 6):call.start()].strip().endswith('class'):
                continue
            start = call.end() - 1
            args = text[start + 1:matching_end(text, start, bracket) - 1]
            line = text.count('\n', 0, call.start()) + 1
            if name == 'StartError':  # StartError({STAGE, ERR, DETAIL})
                inner = args.strip()
                if not inner.startswith('{'):
                    continue
                argument = nth_argument(inner[1:matching_end(inner, 0, '{') - 1], 2)
            else:
                argument = nth_argument(args, MESSAGE_ARGUMENT.get(name, 0))
            for expression in alternatives(argument):
                fixed = parts(expression, name.startswith('log::'))
                if fixed:
                    found.append((f'src/{path.name}:{line}', fixed))
    found += hints(source_root)
    return found


def hints(source_root):
    """The texts start::hint() can return: each return in src/start_failure.cpp
    before message()."""
    path = source_root / 'src' / 'start_failure.cpp'
    if not path.exists():
        return []
    text = path.read_text()
    end = text.find('std::string message(')
    text = text[:end if end >= 0 else len(text)]
    found = []
    for ret in re.finditer(r'\breturn\b', text):
        stop = ret.end()
        while stop < len(text) and text[stop] != ';':
            stop = skip_literal(text, stop) if text[stop] == '"' else stop + 1
        line = text.count('\n', 0, ret.start()) + 1
        for expression in alternatives(text[ret.end():stop]):
            fixed = parts(expression, False)
            if fixed and '"' in expression:
                found.append((f'src/start_failure.cpp:{line}', fixed))
    return found


def documented(fixed, lines):
    for line in lines:
        position = 0
        for part in fixed:
            position = line.find(part, position)
            if position < 0:
                break
            position += len(part)
        else:
            return True
    return False


def main():
    source_root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else '.')
    doc = source_root / 'docs' / 'troubleshooting.md'
    lines = [line.replace('`', '').replace('\\|', '|') for line in doc.read_text().splitlines()]
    found = messages(source_root)
    missing = [(where, fixed) for where, fixed in found if not documented(fixed, lines)]
    print(f'messages: {len(found)} found in src/, {len(found) - len(missing)} listed in docs/troubleshooting.md')
    for where, fixed in missing:
        print(f'missing in docs/troubleshooting.md: {where}: ' + ' … '.join(f'"{p}"' for p in fixed))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
