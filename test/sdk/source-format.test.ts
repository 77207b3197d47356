/** Laying out sources compiled without whitespace: only the layout changes, never a token. */
import { tokenizer } from 'acorn';
import { describe, expect, it } from 'vitest';
import { isDense, layoutSource } from '../../src/sdk/source-format.js';

const tokens = (source: string) =>
  [...tokenizer(source, { ecmaVersion: 'latest', allowReturnOutsideFunction: true })].map((t) =>
    source.slice(t.start, t.end),
  );

const dense = [
  'async({title,format,outline:outline2},ctx)=>{const gate=join(dir(),`${name(title)}.open`);let line=0;while(!existsSync(gate)){line++;ctx.log.info(`line ${line}`);await sleep(150,ctx.signal)}return{format,body:outline2.join("\\n")}}',
  '({load})=>{count("check");if(failing.check)throw new Error("failed on purpose");return load.length}',
  'function(x,y){for(let i=0;i<x.length;i++){y+=x[i]>0?x[i]:-x[i]}try{a()}catch(e){b(e)}finally{c()}return y}',
  '(rows)=>{const by=new Map;for(const r of rows){const list=by.get(r.k)??[];list.push(r);by.set(r.k,list)}return[...by].map(([k,list])=>({k,count:list.length,mean:list.reduce((s,r)=>s+r.v,0)/list.length}))}',
  '({n})=>n*2',
  'async(ctx,{id})=>{const a=await ctx.step("a",()=>id-1);do{x--}while(x>0);return a?{ok:!0}:void 0}',
];

describe('layoutSource', () => {
  it('puts statements on lines of their own and indents blocks', () => {
    expect(layoutSource(dense[0]!)).toBe(
      [
        'async ({ title, format, outline: outline2 }, ctx) => {',
        '  const gate = join(dir(), `${name(title)}.open`);',
        '  let line = 0;',
        '  while (!existsSync(gate)) {',
        '    line++;',
        '    ctx.log.info(`line ${line}`);',
        '    await sleep(150, ctx.signal)',
        '  }',
        '  return { format, body: outline2.join("\\n") }',
        '}',
      ].join('\n'),
    );
    expect(layoutSource('({n})=>n*2')).toBe('({ n }) => n * 2');
    expect(layoutSource(dense[3]!)).toContain(
      ['=> ({', '    k,', '    count: list.length,'].join('\n'),
    );
  });

  it('changes no token', () => {
    for (const source of dense) expect(tokens(layoutSource(source))).toEqual(tokens(source));
  });

  it('leaves alone what a person laid out, and what does not tokenize', () => {
    const typed = '({ n }) => n * 2';
    expect(isDense(typed)).toBe(false);
    expect(layoutSource(typed)).toBe(typed);
    const multiline = '(x) => {\n  return x;\n}';
    expect(layoutSource(multiline)).toBe(multiline);
    expect(layoutSource('({a})=>{ "unterminated')).toBe('({a})=>{ "unterminated');
  });
});
