//! `junit.xml`: one `<testsuite>` per provider and one `<testcase>` per
//! trial (`classname` the provider, `name` the case or
//! `declared_deviations`), in the shape CI systems read (Jenkins, GitLab,
//! GitHub test reporters). A spec file that did not load is a failing
//! `<testcase classname="<stem>" name="spec">`, as it is a failing trial
//! `<stem>::spec` in `cargo test`; the totals are libtest's.

use std::fmt::Write as _;

use crate::escape::{xml_attr, xml_cdata};
use crate::model::{CaseOutcome, Compatibility};

/// Renders the report as JUnit XML.
pub fn render(report: &Compatibility) -> String {
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"grantspec ({})\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
        report.target.as_str(),
        s.cases,
        s.failed,
        s.skipped
    );
    for p in &report.providers {
        let o = &p.outcome;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            xml_attr(&p.id),
            o.cases,
            o.failed,
            o.skipped
        );
        let _ = writeln!(
            out,
            "    <properties>\n      <property name=\"target\" value=\"{}\"/>\n      <property name=\"provider\" value=\"{}\"/>\n    </properties>",
            p.target.as_str(),
            xml_attr(&p.name)
        );
        for c in &p.cases {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_attr(&p.id),
                xml_attr(&c.name)
            );
            match c.outcome {
                CaseOutcome::Passed => {
                    let _ = writeln!(out, "{open}/>");
                }
                CaseOutcome::Failed | CaseOutcome::Pending => {
                    let message = c.message.as_deref().unwrap_or("failed");
                    let first = message.lines().next().unwrap_or("failed");
                    let _ = writeln!(
                        out,
                        "{open}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                        xml_attr(first),
                        xml_attr(c.failure_kind.as_deref().unwrap_or("case")),
                        xml_cdata(message)
                    );
                }
                CaseOutcome::Skipped => {
                    let reason = c.skip_reason.as_deref().unwrap_or("skipped");
                    let _ = writeln!(
                        out,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_attr(reason)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    let spec_errors = report.spec_errors.len();
    if spec_errors > 0 {
        let _ = writeln!(
            out,
            "  <testsuite name=\"spec files\" tests=\"{spec_errors}\" failures=\"{spec_errors}\" errors=\"0\" skipped=\"0\">"
        );
        for error in &report.spec_errors {
            let (classname, name) = error
                .trial
                .rsplit_once("::")
                .unwrap_or((error.file.as_str(), "spec"));
            let first = error.message.lines().next().unwrap_or("spec error");
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\">\n      <failure message=\"{}\" type=\"spec\">{}</failure>\n    </testcase>",
                xml_attr(classname),
                xml_attr(name),
                xml_attr(first),
                xml_cdata(&error.message)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
