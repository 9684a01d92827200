package pack

// indexHTML is index.html's template: one self-contained page, inline CSS
// and SVG, no script, no request leaves it.
const indexHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{{.Title}}: {{.Apprentice}}</title>
<style>
:root{--ok:#1b7f3b;--cl:#2c62b8;--su:#b7791f;--gap:#b42318;--ink:#1d1d1f;--mute:#5f6368;--line:#d0d4da}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;padding:0 1rem;max-width:60rem;margin-inline:auto}
h1{font-size:1.8rem;margin:.2rem 0}h2{font-size:1.35rem;border-bottom:2px solid var(--line);padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}.scroll{overflow-x:auto}
.confirmed{color:var(--ok);font-weight:600}.claimed{color:var(--cl);font-weight:600}.suggested{color:var(--su)}.gap{color:var(--gap);font-weight:600}
svg .confirmed{fill:var(--ok)}svg .claimed{fill:var(--cl)}svg .suggested{fill:var(--su)}svg .gap{fill:var(--gap)}
.cover{min-height:60vh;display:flex;flex-direction:column;justify-content:center}
.cover dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:var(--mute)}dd{margin:0}
.item{border-top:1px solid var(--line);padding-top:.5rem}.mute{color:var(--mute)}.excerpt{white-space:pre-wrap;background:#f8f9fa;border-left:3px solid var(--line);padding:.4rem .6rem;overflow-wrap:anywhere}
.chart img{max-width:100%;height:auto;border:1px solid var(--line)}
code{overflow-wrap:anywhere}
.sign{display:grid;grid-template-columns:1fr 1fr;gap:2rem;margin-top:2rem}.sign div{border-top:1px solid var(--ink);padding-top:.3rem;min-height:4rem}
@media (max-width:40rem){body{font-size:14px}.sign{grid-template-columns:1fr}.cover dl{grid-template-columns:1fr}}
@media print{body{max-width:none;padding:0;font-size:10.5pt}a{color:inherit;text-decoration:none}
.cover{min-height:auto;break-after:page}h2{break-after:avoid}section.major{break-before:page}
article.item{break-inside:avoid-page}tr,img,.excerpt{break-inside:avoid}thead{display:table-header-group}.scroll{overflow:visible}}
@page{margin:16mm 14mm}
</style>
</head>
<body>
<section class="cover" id="cover">
<p class="mute">End-point assessment evidence portfolio</p>
<h1>{{.Apprentice}}</h1>
<dl>
<dt>Apprentice</dt><dd id="cover-apprentice">{{.Apprentice}}</dd>
<dt>Employer</dt><dd>{{if .Employer}}{{.Employer}}{{else}}<span class="mute">not configured</span>{{end}}</dd>
<dt>Standard</dt><dd>{{.Standard}}</dd>
<dt>Catalogue</dt><dd>{{.Catalogue}} (revision <code>{{.Revision}}</code>)</dd>
<dt>Period covered</dt><dd>{{if .From}}{{.From}} to {{.To}}{{else}}<span class="mute">no items</span>{{end}}</dd>
<dt>Generated</dt><dd id="generated">{{.Generated}}</dd>
<dt>Items</dt><dd>{{len .Items}} selected{{if .MaxItems}} (at most {{.MaxItems}}){{end}}{{if .Withheld}}, {{len .Withheld}} withheld as confidential{{end}}</dd>
</dl>
</section>

<section class="major" id="coverage">
<h2>Coverage summary</h2>
<p>Of the {{.Total}} KSBs this portfolio covers, the selected items evidence them as follows.</p>
<svg id="coverage-chart" role="img" aria-label="coverage by status" viewBox="0 0 600 60" width="100%" preserveAspectRatio="none" style="max-width:600px">
{{range .Counts}}{{if .W}}<rect class="{{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Label}}: {{.Count}}</title></rect>{{end}}{{end}}
</svg>
<table><thead><tr><th>Status</th><th>KSBs</th></tr></thead><tbody>
{{range .Counts}}<tr><td class="{{.Class}}">{{.Label}}</td><td>{{.Count}}</td></tr>{{end}}
</tbody></table>
<p class="mute">Whole ledger: {{.Ledger.Confirmed}} confirmed, {{.Ledger.Claimed}} claimed, {{.Ledger.Suggested}} suggested, {{.Ledger.Gap}} gaps of {{.Ledger.Total}}.</p>
{{if .Uncovered}}<p id="uncovered"><strong>Not evidenced by this pack:</strong> {{range $i, $k := .Uncovered}}{{if $i}}, {{end}}<span class="gap">{{$k}}</span>{{end}}</p>{{end}}
</section>

<section class="major" id="matrix">
<h2>KSB → evidence matrix</h2>
<div class="scroll"><table><thead><tr><th>KSB</th><th>Status</th><th>Evidence</th></tr></thead><tbody>
{{range .Matrix}}<tr id="ksb-{{.ID}}"><th scope="row">{{.ID}}</th><td class="{{.Level}}">{{.Level}}</td><td>{{range $i, $e := .Items}}{{if $i}}, {{end}}<a href="#{{$e.Anchor}}">#{{$e.N}}</a> <span class="{{$e.Level}}">({{$e.Level}})</span>{{else}}<span class="gap">no evidence</span>{{end}}</td></tr>
{{end}}</tbody></table></div>
</section>

<section class="major" id="discussion">
<h2>Professional discussion brief</h2>
<p class="mute">For each grade theme: its KSBs, and for each the items that evidence it with their dates and figures. The account of what was done is the apprentice's to give.</p>
{{range .Themes}}<h3>{{.Name}}</h3>
{{range .KSBs}}<div class="brief" id="brief-{{.ID}}"><p><strong>{{.ID}}</strong> {{.Statement}}</p>
{{if .Items}}<ul>{{range .Items}}<li><a href="#{{.Anchor}}">#{{.N}}</a> {{.Date}}, {{.Kind}}: {{.Title}} <span class="{{.Level}}">({{.Level}})</span>{{if .Numbers}}<br><span class="mute">{{range $i, $n := .Numbers}}{{if $i}}; {{end}}{{$n.K}} = {{$n.V}}{{end}}</span>{{end}}</li>{{end}}</ul>
{{else}}<p class="gap">No evidence in this pack.</p>{{end}}</div>
{{end}}{{end}}
</section>

<section class="major" id="project">
<h2>KSBs assessed by the project</h2>
<p class="mute">These KSBs are assessed through the project evaluation report, presentation and questioning; the evidence below supports that report.</p>
<div class="scroll"><table><thead><tr><th>KSB</th><th>Statement</th><th>Evidence</th></tr></thead><tbody>
{{range .Project}}<tr><th scope="row">{{.ID}}</th><td>{{.Statement}}</td><td>{{range $i, $e := .Items}}{{if $i}}, {{end}}<a href="#{{$e.Anchor}}">#{{$e.N}}</a>{{else}}<span class="gap">none</span>{{end}}</td></tr>
{{end}}</tbody></table></div>
</section>

<section class="major" id="items">
<h2>Evidence</h2>
{{range .Items}}<article class="item" id="{{.Anchor}}">
<h3>#{{.N}} {{.View.Item.Title}}</h3>
<p class="mute">{{.View.Item.Kind}} · {{.View.Item.OccurredAt.UTC.Format "2006-01-02 15:04 UTC"}} · {{.View.Item.Source}} ({{.View.Item.SourceType}})</p>
{{if .View.Item.Summary}}<div class="excerpt">{{.View.Item.Summary}}</div>{{end}}
<table><thead><tr><th>KSB</th><th>Status</th><th>By</th></tr></thead><tbody>{{range .Tags}}<tr><td><a href="#ksb-{{.KSB}}">{{.KSB}}</a></td><td class="{{.Level}}">{{.Level}}</td><td>{{.By}}</td></tr>{{end}}</tbody></table>
{{if .Facts}}<h4>Facts</h4><div class="scroll"><table><tbody>{{range .Facts}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>{{end}}</tbody></table></div>{{end}}
{{if .Artefacts}}<h4>Artefacts</h4>{{range .Artefacts}}{{if .SVG}}<figure class="chart"><img src="{{.DataURL}}" alt="{{.Name}}"><figcaption><a href="{{.Path}}">{{.Name}}</a></figcaption></figure>{{else}}<p>{{if .Path}}<a href="{{.Path}}">{{.Name}}</a>{{else}}{{.Name}} <span class="mute">{{.Note}}</span>{{end}} <span class="mute">{{.MediaType}}, {{.Size}} bytes</span></p>{{end}}{{end}}{{end}}
{{if or .Links .Backlinks}}<h4>Related items</h4><ul>{{range .Links}}<li>{{.Rel}} → {{if .Anchor}}<a href="#{{.Anchor}}">{{.Title}}</a>{{else}}<code>{{.Item}}</code> {{.Title}}{{end}}</li>{{end}}{{range .Backlinks}}<li>{{.Rel}} ← {{if .Anchor}}<a href="#{{.Anchor}}">{{.Title}}</a>{{else}}<code>{{.Item}}</code> {{.Title}}{{end}}</li>{{end}}</ul>{{end}}
<h4>Provenance</h4>
<table><tbody>
<tr><th>Source</th><td>{{.View.Item.Source}} ({{.View.Item.SourceType}})</td></tr>
<tr><th>Native ID</th><td><code>{{.View.Item.Origin.NativeID}}</code></td></tr>
<tr><th>Origin</th><td><code>{{.View.Item.Origin.URI}}</code></td></tr>
{{if .WebURL}}<tr><th>Web</th><td><a href="{{.WebURL}}">{{.WebURL}}</a></td></tr>{{end}}
<tr><th>Collected</th><td>{{.View.Item.CollectedAt.UTC.Format "2006-01-02 15:04 UTC"}}</td></tr>
<tr><th>Item ID</th><td><code>{{.View.Item.ID}}</code></td></tr>
{{range .View.Item.Redactions}}<tr><th>Redacted</th><td>{{.Count}} × {{.Rule}}</td></tr>{{end}}
</tbody></table>
<h4>Review history</h4>
{{if .Reviews}}<table><thead><tr><th>When</th><th>Who</th><th>Decision</th><th>Signature</th></tr></thead><tbody>{{range .Reviews}}<tr><td>{{.At}}</td><td>{{.By}} ({{.Role}})</td><td>{{.Action}}{{if .Note}}<br><span class="mute">{{.Note}}</span>{{end}}</td><td>{{.Signature}}</td></tr>{{end}}</tbody></table>{{else}}<p class="mute">Not reviewed.</p>{{end}}
</article>
{{end}}
{{if .Withheld}}<h3 id="withheld">Withheld as confidential</h3><p class="mute">Marked confidential and not approved by the employer for the pack; no content is shown.</p>
<ul>{{range .Withheld}}<li><code>{{.ID}}</code> {{.Kind}}, {{.At}}</li>{{end}}</ul>{{end}}
</section>

<section class="major" id="declaration">
<h2>Declaration</h2>
<p>I declare that the evidence in this portfolio is my own work, carried out during my apprenticeship, and that the items above are an accurate record of it.</p>
<p>As the employer, I confirm that the apprentice carried out this work in the course of their employment and that it may be shared with the end-point assessment organisation.</p>
<div class="sign"><div>Apprentice: {{.Apprentice}}<br>Signature and date</div><div>Employer: {{.Employer}}<br>Signature and date</div></div>
</section>
</body>
</html>
`
