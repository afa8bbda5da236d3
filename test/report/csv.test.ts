import { describe, expect, it } from 'vitest';
import { controlCsvRecord, csvCell, csvHeader, csvRecord, findingCsvRecord, CSV_COLUMNS } from '../../reconciler/report/csv.js';
import { controlResult, hasUnsafeCharacter, hostileFinding, HOSTILE_CELLS, parseCsv } from './controls-fixtures.js';
import { mailPlatform } from './fixtures.js';

describe('CSV cells (RFC 4180)', () => {
  it('leaves plain text alone and quotes what needs quoting, doubling quotes', () => {
    expect(csvCell('Default')).toBe('Default');
    expect(csvCell(42)).toBe('42');
    expect(csvCell('')).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rinside')).toBe('"cr\rinside"');
  });

  it('defuses every cell a spreadsheet would read as a formula with a leading single quote', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","click")')).toBe(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csvCell('+1+2')).toBe("'+1+2");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1:A2)')).toBe("'@SUM(A1:A2)");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell('\r=1+1')).toBe(`"'\r=1+1"`);
    // After leading spaces, and in the full-width forms some spreadsheets accept.
    expect(csvCell('   =1+1')).toBe("'   =1+1");
    expect(csvCell('＝1+1')).toBe("'＝1+1");
    // Inside a cell they are harmless: only the first character counts.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('user@example.com')).toBe('user@example.com');
  });

  it('writes control and bidirectional characters as visible escapes', () => {
    expect(csvCell('evil\u202Egnp.exe')).toBe('evil\\u{202e}gnp.exe');
    expect(csvCell('bell\u0007\u001b[31m')).toBe('bell\\x07\\x1b[31m');
    expect(csvCell('nul\u0000')).toBe('nul\\x00');
    expect(hasUnsafeCharacter(csvCell('\u2066x\u2069\u200f\u0085'))).toBe(false);
  });

  it('joins a record with commas, each cell escaped on its own', () => {
    expect(csvRecord(['a', '=b', 'c,d'])).toBe(`a,'=b,"c,d"`);
    expect(parseCsv(csvHeader())).toEqual([[...CSV_COLUMNS]]);
  });
});

describe('CSV records of findings and controls', () => {
  it('keeps every hostile cell of a finding one cell, defused, whatever it holds', () => {
    for (const name of HOSTILE_CELLS) {
      const record = findingCsvRecord(hostileFinding(name));
      const parsed = parseCsv(record);
      expect(parsed).toHaveLength(1);
      const cells = parsed[0]!;
      expect(cells).toHaveLength(CSV_COLUMNS.length);
      const resourceName = cells[CSV_COLUMNS.indexOf('resource name')]!;
      for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      // What is left after the defusing quote is the name, with control characters shown as escapes.
      expect(hasUnsafeCharacter(resourceName)).toBe(false);
    }
  });

  it('says what a finding is about: kind, ids, control, status, owner, resource and summary', () => {
    const f = hostileFinding('Forward all');
    const cells = parseCsv(findingCsvRecord(f))[0]!;
    const cell = (c: (typeof CSV_COLUMNS)[number]) => cells[CSV_COLUMNS.indexOf(c)];
    expect(cell('kind')).toBe('finding');
    expect(cell('id')).toBe(f.id);
    expect(cell('control')).toBe('MAIL.FWD.4v1');
    expect(cell('status')).toBe('violation');
    expect(cell('severity')).toBe('critical');
    expect(cell('owner')).toBe(f.owner.name);
    expect(cell('owner contact')).toBe(f.owner.contact);
    expect(cell('resource type')).toBe('inboxRule');
    expect(cell('resource name')).toBe('Forward all');
    expect(cell('detail')).toBe(f.summary);
  });

  it('gives a control its result and what was checked; not evaluated says why, never passed', () => {
    const passed = parseCsv(controlCsvRecord(controlResult('MAIL.SPF.1', 'passed', mailPlatform)))[0]!;
    expect(passed.slice(0, 6)).toEqual(['control', 'MAIL.SPF.1v1', 'MAIL.SPF.1v1', 'SPF is published and ends in -all (~all only where declared)', 'passed', 'high']);
    expect(passed[CSV_COLUMNS.indexOf('detail')]).toContain('Exactly one v=spf1 TXT record at the domain apex.');
    const unread = parseCsv(controlCsvRecord(controlResult('MAIL.DKIM.1', 'not-evaluated', mailPlatform, { notEvaluated: 'DKIM signing configurations could not be read: 503' })))[0]!;
    expect(unread[CSV_COLUMNS.indexOf('status')]).toBe('not evaluated');
    expect(unread[CSV_COLUMNS.indexOf('detail')]).toContain('Not evaluated: DKIM signing configurations could not be read: 503.');
  });
});
