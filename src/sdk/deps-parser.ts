/**
 * Reads a function's dependencies from its destructured parameter, Hamilton style:
 * `({ orders, day }) => …` depends on `orders` and `day`. Uses a real JavaScript parser
 * (acorn) on the function's source, so defaults, renames and comments are handled.
 */
import { parseExpressionAt, type Node, type Pattern } from 'acorn';

export interface ReadDeps {
  /** Names read from the parameter; `optional` when the pattern gives a default. */
  deps: { name: string; optional: boolean }[];
}

export type ReadResult = ReadDeps | { error: string };

type FunctionNode = Node & { params: Pattern[] };

function parseFunction(source: string): FunctionNode | null {
  const attempts = [
    `(${source})`,
    `({${source}})`,
    `({ async ${source.replace(/^async\s+/, '')}})`,
  ];
  for (const text of attempts) {
    try {
      const expr = parseExpressionAt(text, 0, { ecmaVersion: 'latest' });
      if (expr.type === 'ArrowFunctionExpression' || expr.type === 'FunctionExpression') {
        return expr;
      }
      if (expr.type === 'ObjectExpression') {
        const prop = expr.properties[0];
        if (prop?.type === 'Property' && prop.value.type === 'FunctionExpression') {
          return prop.value;
        }
      }
    } catch {
      // try the next wrapping
    }
  }
  return null;
}

/**
 * The dependency names of `fn`'s parameter at `index` (0 for nodes, 1 for a map's deps).
 * A missing parameter means no dependencies.
 */
export function readDestructuredDeps(fn: (...args: never[]) => unknown, index: number): ReadResult {
  const source = Function.prototype.toString.call(fn);
  if (source.includes('[native code]')) {
    return { error: 'it is a native or bound function, whose source cannot be read' };
  }
  const parsed = parseFunction(source);
  if (!parsed) return { error: 'its source could not be parsed' };
  let param: Pattern | undefined = parsed.params[index];
  if (!param) return { deps: [] };
  if (param.type === 'AssignmentPattern') param = param.left;
  // `_` (or `_anything`) declares "no dependencies" for a function that only wants its context.
  if (param.type === 'Identifier' && param.name.startsWith('_')) return { deps: [] };
  if (param.type !== 'ObjectPattern') {
    return {
      error: `its parameter ${index + 1} is ${param.type === 'Identifier' ? `a plain name (${param.name})` : 'not an object pattern'}, not a destructured object`,
    };
  }
  const deps: ReadDeps['deps'] = [];
  for (const prop of param.properties) {
    if (prop.type === 'RestElement') {
      return { error: 'its parameter uses a rest element (...rest), which hides its dependencies' };
    }
    if (prop.computed) return { error: 'its parameter uses a computed key' };
    const key = prop.key;
    const name =
      key.type === 'Identifier'
        ? key.name
        : key.type === 'Literal' && typeof key.value === 'string'
          ? key.value
          : null;
    if (name === null) return { error: 'its parameter has a key that is not a plain name' };
    deps.push({ name, optional: prop.value.type === 'AssignmentPattern' });
  }
  return { deps };
}
