// Parses and analyses KQL with Microsoft's Kusto language service (Kusto.Language, built for
// JavaScript). Reads {"tables": {name: "(column:type, ...)"}, "queries": {name: text}} on stdin and
// prints {name: ["Error: message @offset", ...]}: syntax errors, and names that are not columns,
// tables or functions of the given tables.
'use strict';
require('@kusto/language-service-next/bridge.min.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');

const K = Kusto.Language;
const S = Kusto.Language.Symbols;
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tables = Object.entries(input.tables).map(([name, schema]) => new S.TableSymbol.$ctor7(name, schema, name));
const globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor('workspace', tables));
const result = {};
for (const [name, text] of Object.entries(input.queries)) {
  const diagnostics = K.KustoCode.ParseAndAnalyze(text, globals).GetDiagnostics();
  const found = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    found.push(`${d.Severity}: ${d.Message} @${d.Start}`);
  }
  result[name] = found;
}
process.stdout.write(JSON.stringify(result));
