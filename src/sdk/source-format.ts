/**
 * Lays out a function's source for reading when it comes without its whitespace. A TypeScript
 * file loaded through tsx is compiled with its whitespace taken out, so `fn.toString()` of a
 * node is one dense line; the UI and `weft graph` show it re-indented: statements on lines of
 * their own, blocks indented, spaces around operators. Only the layout changes, never a token;
 * a source that already has line breaks is returned as it is.
 */
import { tokenizer, type Token } from 'acorn';

const INDENT = '  ';
/** An object or array literal up to this long stays on one line. */
const INLINE_MAX = 60;

/** Words after which a space comes (unless punctuation follows). */
const SPACED_WORDS = new Set([
  'async',
  'await',
  'case',
  'catch',
  'const',
  'delete',
  'do',
  'else',
  'export',
  'for',
  'function',
  'if',
  'in',
  'instanceof',
  'let',
  'new',
  'of',
  'return',
  'switch',
  'throw',
  'typeof',
  'var',
  'void',
  'while',
  'yield',
]);

/** Keywords whose `(` is not a call: `if (`, `while (`. */
const CONTROL = new Set(['if', 'for', 'while', 'switch', 'catch', 'with']);

/** Binary and assignment operators, written with a space on each side. */
const INFIX = new Set([
  '=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '**=',
  '&&=',
  '||=',
  '??=',
  '|=',
  '&=',
  '^=',
  '<<=',
  '>>=',
  '>>>=',
  '==',
  '!=',
  '===',
  '!==',
  '<',
  '>',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '&&',
  '||',
  '??',
  '|',
  '&',
  '^',
  '<<',
  '>>',
  '>>>',
  '=>',
  '?',
  'instanceof',
  'in',
]);

/** Whether `source` is worth laying out: one line without the spaces a person would type. */
export function isDense(source: string): boolean {
  return !source.includes('\n') && !/[,;] /.test(source) && /\S=>|=>\S|[,;{]\S/.test(source);
}

/** `source` laid out for reading, or as it is when it isn't dense or doesn't tokenize. */
export function layoutSource(source: string): string {
  if (!isDense(source)) return source;
  let tokens: Token[];
  try {
    tokens = [...tokenizer(source, { ecmaVersion: 'latest', allowReturnOutsideFunction: true })];
  } catch {
    return source;
  }
  return new Layout(source, tokens).run();
}

type Brace = 'block' | 'inline' | 'open';

class Layout {
  #out = '';
  #indent = 0;
  /** What each open `{` is. */
  readonly #braces: Brace[] = [];
  /** How many `(` were open when each brace opened: an object's commas break at that depth. */
  readonly #braceParens: number[] = [];
  /** Open `(`s, with whether each is a `for (…)` header (whose `;` stay on the line). */
  readonly #parens: boolean[] = [];
  /** Open ternaries, by the brace depth they were opened at: their `:` is spaced. */
  readonly #ternaries: number[] = [];

  constructor(
    private readonly src: string,
    private readonly tokens: readonly Token[],
  ) {}

  run(): string {
    for (let i = 0; i < this.tokens.length; i++) i = this.#token(i);
    return this.#out.replace(/[ \t]+\n/g, '\n').trimEnd();
  }

  #text(t: Token): string {
    return this.src.slice(t.start, t.end);
  }

  #newline(): void {
    this.#out = this.#out.trimEnd() + '\n' + INDENT.repeat(this.#indent);
  }

  #space(): void {
    if (!/[\s(]$/.test(this.#out) && this.#out !== '') this.#out += ' ';
  }

  /** Lays out token `i`; returns the index of the last token it consumed. */
  #token(i: number): number {
    const t = this.tokens[i]!;
    const label = t.type.label;
    const text = this.#text(t);
    const prev = this.tokens[i - 1];
    const prevText = prev ? this.#text(prev) : '';
    const next = this.tokens[i + 1];
    const nextText = next ? this.#text(next) : '';

    if (label === '`') return this.#template(i);
    switch (text) {
      case '{':
        return this.#openBrace(i, prevText);
      case '}':
        this.#closeBrace(nextText);
        return i;
      case '(': {
        if (CONTROL.has(prevText) || prevText === 'function' || prevText === 'async') this.#space();
        else if (prev && /^[=:,?]|=>|^return$/.test(prevText)) this.#space();
        this.#parens.push(prevText === 'for');
        this.#out += '(';
        return i;
      }
      case ')':
        this.#parens.pop();
        this.#out = this.#out.trimEnd() + ')';
        return i;
      case '[':
        if (prev && /^[=:,?]$|=>|^return$/.test(prevText)) this.#space();
        this.#out += '[';
        return i;
      case ']':
        this.#out = this.#out.trimEnd() + ']';
        return i;
      case ';':
        this.#out = this.#out.trimEnd() + ';';
        if (this.#parens.at(-1) === true) this.#out += ' ';
        else if (nextText !== '}' && next) this.#newline();
        return i;
      case ',':
        this.#out = this.#out.trimEnd() + ',';
        if (this.#braces.at(-1) === 'open' && this.#parens.length === this.#braceParens.at(-1)) {
          this.#newline();
        } else this.#out += ' ';
        return i;
      case '.':
      case '?.':
        this.#out = this.#out.trimEnd() + text;
        return i;
      case ':': {
        const depth = this.#braces.length;
        if (this.#ternaries.at(-1) === depth) {
          this.#ternaries.pop();
          this.#space();
          this.#out += ': ';
        } else {
          this.#out = this.#out.trimEnd() + ': ';
        }
        return i;
      }
      case '!':
      case '~':
        this.#wordGap(prev, prevText);
        this.#out += text;
        return i;
      case '++':
      case '--':
        // Prefix when an operand follows and none precedes.
        if (prev && isOperand(prev, prevText)) this.#out = this.#out.trimEnd() + text;
        else {
          this.#wordGap(prev, prevText);
          this.#out += text;
        }
        return i;
      case '...':
        this.#wordGap(prev, prevText);
        this.#out += text;
        return i;
    }
    if ((text === '-' || text === '+') && !(prev && isOperand(prev, prevText))) {
      // A sign, not a sum.
      this.#wordGap(prev, prevText);
      this.#out += text;
      return i;
    }
    if (INFIX.has(text) && label !== 'name') {
      if (text === '?') this.#ternaries.push(this.#braces.length);
      this.#space();
      this.#out += `${text} `;
      return i;
    }
    // A word, number, string or regular expression.
    this.#wordGap(prev, prevText);
    if (prev && /^(else|do|try|finally)$/.test(prevText) && text !== '{' && text !== 'if') {
      this.#out = this.#out.trimEnd() + ' ';
    }
    this.#out += text;
    if (SPACED_WORDS.has(text) && next && !/^[.;,)(\]]$/.test(nextText)) this.#out += ' ';
    else if (text === 'async' && nextText === '(') this.#out += ' ';
    return i;
  }

  /** A space between two words (`return x`, `x in y`), none after an opening bracket. */
  #wordGap(prev: Token | undefined, prevText: string): void {
    if (!prev) return;
    if (isOperand(prev, prevText) || prevText === ')') this.#space();
  }

  /** A template literal, as it is (its `${…}` included). */
  #template(i: number): number {
    const start = this.tokens[i]!.start;
    let depth = 0;
    let j = i + 1;
    for (; j < this.tokens.length; j++) {
      const label = this.tokens[j]!.type.label;
      if (label === '${') depth++;
      else if (label === '}' && depth > 0) depth--;
      else if (label === '`' && depth === 0) break;
    }
    const end = this.tokens[Math.min(j, this.tokens.length - 1)]!.end;
    const prev = this.tokens[i - 1];
    if (prev) this.#wordGap(prev, this.#text(prev));
    if (prev && /^[=:,?]$|=>|^return$|^\($/.test(this.#text(prev)) && !this.#out.endsWith('(')) {
      this.#space();
    }
    this.#out += this.src.slice(start, end);
    return j;
  }

  #push(kind: Brace): void {
    this.#braces.push(kind);
    this.#braceParens.push(this.#parens.length);
  }

  #openBrace(i: number, prevText: string): number {
    const block =
      prevText === '=>' ||
      prevText === ')' ||
      prevText === '' ||
      prevText === ';' ||
      prevText === '{' ||
      prevText === '}' ||
      /^(else|try|finally|do)$/.test(prevText);
    const close = this.#matching(i);
    if (block) {
      this.#space();
      this.#out += '{';
      if (close === i + 1) {
        this.#push('inline');
        return i;
      }
      this.#push('block');
      this.#indent++;
      this.#newline();
      return i;
    }
    // An object literal or a pattern: on one line when short.
    const inner =
      close === -1 ? '' : this.src.slice(this.tokens[i]!.end, this.tokens[close]!.start);
    if (/^[=:,?]$|^return$|^\($|^\[$/.test(prevText) && !this.#out.endsWith('(')) this.#space();
    if (close !== -1 && inner.length + 4 <= INLINE_MAX && !inner.includes(';')) {
      this.#push('inline');
      this.#out += close === i + 1 ? '{' : '{ ';
      return i;
    }
    this.#push('open');
    this.#indent++;
    this.#out += '{';
    this.#newline();
    return i;
  }

  #closeBrace(nextText: string): void {
    const kind = this.#braces.pop() ?? 'block';
    this.#braceParens.pop();
    if (kind === 'inline') {
      this.#out = this.#out.endsWith('{') ? this.#out + '}' : this.#out.trimEnd() + ' }';
    } else {
      this.#indent = Math.max(0, this.#indent - 1);
      this.#newline();
      this.#out += '}';
    }
    if (kind !== 'block') return;
    if (/^(else|catch|finally|while)$/.test(nextText)) this.#out += ' ';
    else if (nextText !== '' && !/^[),;.\]]$/.test(nextText)) this.#newline();
  }

  /** The index of the `}` that closes the `{` at `i`, or -1. */
  #matching(i: number): number {
    let depth = 0;
    for (let j = i; j < this.tokens.length; j++) {
      const label = this.tokens[j]!.type.label;
      if (label === '{' || label === '${') depth++;
      else if (label === '}') {
        depth--;
        if (depth === 0) return j;
      }
    }
    return -1;
  }
}

/** Whether a token ends an operand (so a following `-` subtracts and `++` is postfix). */
function isOperand(token: Token, text: string): boolean {
  const label = token.type.label;
  if (label === 'name') return !SPACED_WORDS.has(text);
  if (label === 'num' || label === 'string' || label === 'regexp' || label === '`') return true;
  if (label === 'true' || label === 'false' || label === 'null' || label === 'this') return true;
  return text === ')' || text === ']' || text === '}';
}
