//! What serde cannot check: uniqueness, references, coherence.

use std::collections::{BTreeMap, HashMap};

use crate::SortedMap;
use crate::error::{CaptureProblem, SpecError, SpecErrorKind, did_you_mean};
use crate::model::{
    AuthorizeCall, Basis, Case, CaseForm, Live, Note, ParamSpec, Provider, RequestOverride,
    ResourceCall, Spec, Step, Tag, Var,
};
use crate::template::{self, Part, Piece};

use super::Doc;
use super::tree::{Node, Seg};

/// The parts of a spec that could be read.
pub(crate) struct Parts<'a> {
    /// `provider`, when it deserialized.
    pub provider: Option<&'a Provider>,
    /// `vars`, when it deserialized (empty when absent).
    pub vars: Option<&'a BTreeMap<String, Var>>,
    /// `live`, when present and it deserialized.
    pub live: Option<&'a Live>,
    /// The cases that deserialized, with their index in `cases`.
    pub cases: Vec<(usize, &'a Case)>,
    /// The name of every case that has one, deserialized or not, with its
    /// index in `cases`.
    pub names: Vec<(usize, &'a str)>,
    /// Whether the spec has no `mock` section (a live-only provider).
    pub live_only: bool,
}

impl<'a> Parts<'a> {
    /// Every part of a spec that deserialized whole.
    pub fn of(spec: &'a Spec) -> Self {
        Self {
            provider: Some(&spec.provider),
            vars: Some(&spec.vars),
            live: spec.live.as_ref(),
            cases: spec.cases.iter().enumerate().collect(),
            names: spec
                .cases
                .iter()
                .enumerate()
                .map(|(index, case)| (index, case.name.as_str()))
                .collect(),
            live_only: spec.is_live_only(),
        }
    }
}

/// Checks the parts; returns every problem.
pub(crate) fn check(doc: &Doc<'_>, parts: &Parts<'_>) -> Vec<SpecError> {
    let mut checker = Checker {
        doc,
        vars: parts.vars,
        errors: Vec::new(),
    };
    if let Some(provider) = parts.provider {
        checker.provider(provider);
        checker.sources(provider);
        checker.contradictions(provider, &parts.names);
        checker.deviations(provider);
        checker.quirks(provider, &parts.names);
        checker.notes(provider);
    }
    if let Some(vars) = parts.vars {
        checker.vars(vars);
    }
    if let Some(live) = parts.live {
        let place = Place::under(&[Seg::Key("live"), Seg::Key("base_url")]);
        checker.template(&live.base_url, place, &Scope::Outside("`live.base_url`"));
    }
    for (index, name, first) in repeats(&parts.names) {
        let first_line = doc
            .node(&[Seg::Key("cases"), Seg::Index(first)])
            .map(|node| node.start.line);
        let path = [Seg::Key("cases"), Seg::Index(index), Seg::Key("name")];
        checker.push(doc.at_node(
            doc.closest(&path),
            SpecErrorKind::DuplicateCaseName {
                name: name.to_owned(),
                first_line,
            },
        ));
    }
    for &(index, case) in &parts.cases {
        checker.case(index, case, parts.live_only);
    }
    checker.errors
}

/// Every name of `names` (`(index, name)`) that an earlier one repeats, in
/// their order, with the index of its first: found by sorting (linear
/// when the names come sorted, as generated ones do) rather than by
/// hashing every name.
pub(crate) fn repeats<'n, K: Ord + ?Sized>(names: &[(usize, &'n K)]) -> Vec<(usize, &'n K, usize)> {
    let mut sorted: Vec<(usize, &K)> = names
        .iter()
        .copied()
        .enumerate()
        .map(|(at, (_, name))| (at, name))
        .collect();
    // Stable: equal names keep their order, the first one first.
    sorted.sort_by(|a, b| a.1.cmp(b.1));
    let mut found = Vec::new();
    for group in sorted.chunk_by(|a, b| a.1 == b.1) {
        let first = names[group[0].0].0;
        found.extend(group[1..].iter().map(|&(at, name)| (at, name, first)));
    }
    found.sort_unstable_by_key(|&(at, _, _)| at);
    found
        .into_iter()
        .map(|(at, name, first)| (names[at].0, name, first))
        .collect()
}

/// Where a template is, which decides what it may capture.
enum Scope<'s> {
    /// Outside any case, named for messages: no captures.
    Outside(&'s str),
    /// In a step of a case.
    Step {
        /// Ids of the steps before this one.
        earlier: &'s [&'s str],
        /// This step's id.
        own: Option<&'s str>,
        /// Ids of the steps after this one.
        later: &'s [&'s str],
        /// Whether the case is a single request (no steps to capture from).
        single: bool,
    },
    /// In a variable, which any step may use: captures are not checked.
    Var,
}

/// Where a template is: a parent path and up to three segments under it,
/// joined only when a problem needs the position.
#[derive(Clone, Copy)]
struct Place<'p, 's> {
    parent: &'p [Seg<'s>],
    tail: [Seg<'s>; 3],
    tail_len: usize,
}

impl<'p, 's> Place<'p, 's> {
    fn under(parent: &'p [Seg<'s>]) -> Self {
        Self {
            parent,
            tail: [Seg::Index(0); 3],
            tail_len: 0,
        }
    }

    /// The place `seg` under this one.
    fn then(mut self, seg: Seg<'s>) -> Self {
        self.tail[self.tail_len] = seg;
        self.tail_len += 1;
        self
    }

    fn path(&self) -> Vec<Seg<'s>> {
        [self.parent, &self.tail[..self.tail_len]].concat()
    }
}

struct Checker<'d, 'a> {
    doc: &'d Doc<'a>,
    vars: Option<&'d BTreeMap<String, Var>>,
    errors: Vec<SpecError>,
}

impl Checker<'_, '_> {
    fn push(&mut self, error: SpecError) {
        self.errors.push(error);
    }

    fn provider(&mut self, provider: &Provider) {
        let Some(stem) = self.doc.stem() else {
            return;
        };
        if stem != provider.id {
            let node = self.doc.closest(&[Seg::Key("provider"), Seg::Key("id")]);
            self.push(self.doc.at_node(
                node,
                SpecErrorKind::IdNotFileName {
                    id: provider.id.clone(),
                    stem: stem.to_owned(),
                },
            ));
        }
    }

    /// Every key of `provider.sources` names a fact.
    fn sources(&mut self, provider: &Provider) {
        let path = [Seg::Key("provider"), Seg::Key("sources")];
        for key in provider.sources.keys() {
            if crate::facts::is_fact(key) {
                continue;
            }
            let node = self.doc.key(&path, key).or_else(|| self.doc.closest(&path));
            let suggestion =
                did_you_mean(key, crate::facts::FACTS.iter().map(|(k, _)| *k)).map(str::to_owned);
            self.push(self.doc.at_node(
                node,
                SpecErrorKind::UnknownFact {
                    key: key.clone(),
                    suggestion,
                },
            ));
        }
    }

    /// Every declared deviation is one a check reports.
    fn deviations(&mut self, provider: &Provider) {
        for (index, id) in provider.deviations.iter().enumerate() {
            if grantspec_conformance::known_deviation(id) {
                continue;
            }
            let is_quirk = provider.quirks.iter().any(|quirk| quirk.id == *id);
            let suggestion = (!is_quirk)
                .then(|| did_you_mean(id, grantspec_conformance::deviation_ids()))
                .flatten()
                .map(str::to_owned);
            let node = self.doc.closest(&[
                Seg::Key("provider"),
                Seg::Key("deviations"),
                Seg::Index(index),
            ]);
            self.push(self.doc.at_node(
                node,
                SpecErrorKind::UnknownDeviation {
                    id: id.clone(),
                    suggestion,
                    is_quirk,
                },
            ));
        }
    }

    /// Quirks have unique ids that no check reports, name cases of the
    /// spec, and say on which day they were seen in a form that is a day.
    fn quirks(&mut self, provider: &Provider, names: &[(usize, &str)]) {
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (index, quirk) in provider.quirks.iter().enumerate() {
            let at = |key| {
                [
                    Seg::Key("provider"),
                    Seg::Key("quirks"),
                    Seg::Index(index),
                    Seg::Key(key),
                ]
            };
            let id = quirk.id.as_str();
            if ids.insert(id, index).is_some() {
                let node = self.doc.closest(&at("id"));
                self.push(
                    self.doc
                        .at_node(node, SpecErrorKind::DuplicateQuirk { id: id.to_owned() }),
                );
            }
            if grantspec_conformance::known_deviation(id) {
                let node = self.doc.closest(&at("id"));
                self.push(
                    self.doc
                        .at_node(node, SpecErrorKind::QuirkIsChecked { id: id.to_owned() }),
                );
            }
            if let Some(case) = &quirk.case {
                if !names.iter().any(|(_, name)| name == case) {
                    let node = self.doc.closest(&at("case"));
                    let suggestion =
                        did_you_mean(case, names.iter().map(|(_, name)| *name)).map(str::to_owned);
                    self.push(self.doc.at_node(
                        node,
                        SpecErrorKind::UnknownQuirkCase {
                            id: id.to_owned(),
                            case: case.clone(),
                            suggestion,
                        },
                    ));
                }
            }
            self.day(&quirk.note, &at("on"));
        }
    }

    /// A note's `on:` is a day.
    fn notes(&mut self, provider: &Provider) {
        for (index, note) in provider.notes.iter().enumerate() {
            self.day(
                note,
                &[
                    Seg::Key("provider"),
                    Seg::Key("notes"),
                    Seg::Index(index),
                    Seg::Key("on"),
                ],
            );
        }
    }

    fn day(&mut self, note: &Note, path: &[Seg<'_>]) {
        if let Basis::Observed { on: Some(day) } = &note.basis {
            if !is_day(day) {
                let node = self.doc.closest(path);
                self.push(
                    self.doc
                        .at_node(node, SpecErrorKind::NotADay { value: day.clone() }),
                );
            }
        }
    }

    /// Contradictions have unique ids, two ways or more, and name cases of
    /// the spec.
    fn contradictions(&mut self, provider: &Provider, names: &[(usize, &str)]) {
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (index, contradiction) in provider.contradictions.iter().enumerate() {
            let path = [
                Seg::Key("provider"),
                Seg::Key("contradictions"),
                Seg::Index(index),
            ];
            let id = contradiction.id.as_str();
            if ids.insert(id, index).is_some() {
                let node = self
                    .doc
                    .closest(&[path[0], path[1], path[2], Seg::Key("id")]);
                self.push(self.doc.at_node(
                    node,
                    SpecErrorKind::DuplicateContradiction { id: id.to_owned() },
                ));
            }
            if contradiction.ways.len() < 2 {
                let node = self
                    .doc
                    .closest(&[path[0], path[1], path[2], Seg::Key("ways")]);
                self.push(self.doc.at_node(
                    node,
                    SpecErrorKind::TooFewWays {
                        id: id.to_owned(),
                        ways: contradiction.ways.len(),
                    },
                ));
            }
            for (way_index, way) in contradiction.ways.iter().enumerate() {
                if names.iter().any(|(_, name)| *name == way.case) {
                    continue;
                }
                let node = self.doc.closest(&[
                    path[0],
                    path[1],
                    path[2],
                    Seg::Key("ways"),
                    Seg::Index(way_index),
                    Seg::Key("case"),
                ]);
                let suggestion =
                    did_you_mean(&way.case, names.iter().map(|(_, n)| *n)).map(str::to_owned);
                self.push(self.doc.at_node(
                    node,
                    SpecErrorKind::UnknownWayCase {
                        id: id.to_owned(),
                        case: way.case.clone(),
                        suggestion,
                    },
                ));
            }
        }
    }

    fn vars(&mut self, vars: &BTreeMap<String, Var>) {
        for (name, var) in vars {
            match var {
                Var::Same(value) => {
                    let place = Place::under(&[Seg::Key("vars")]).then(Seg::Key(name));
                    self.template(value, place, &Scope::Var);
                }
                Var::PerTarget { mock, live } => {
                    for (target, value) in [("mock", mock), ("live", live)] {
                        let place = Place::under(&[Seg::Key("vars")])
                            .then(Seg::Key(name))
                            .then(Seg::Key(target));
                        self.template(value, place, &Scope::Var);
                    }
                }
            }
            // Report a loop once, at its first variable in name order.
            let cycle = cycle_from(vars, name)
                .filter(|cycle| cycle.iter().all(|other| other.as_str() >= name.as_str()));
            if let Some(cycle) = cycle {
                let path = [Seg::Key("vars"), Seg::Key(name)];
                let key = self.doc.key(&[Seg::Key("vars")], name);
                let node = key.or_else(|| self.doc.closest(&path));
                self.push(self.doc.at_node(
                    node,
                    SpecErrorKind::VariableLoop {
                        name: name.clone(),
                        cycle: cycle.iter().map(ToString::to_string).collect(),
                    },
                ));
            }
        }
    }

    /// Checks one case; `live_only` when the spec has no `mock` section.
    fn case(&mut self, index: usize, case: &Case, live_only: bool) {
        let case_path = [Seg::Key("cases"), Seg::Index(index)];
        let key = |key: &str| self.doc.key(&case_path, key);
        let case_node = self.doc.closest(&case_path);
        let name = &case.name;

        // A single request is the case's one step, with its fields on the
        // case; fields of a single request written beside `steps` are stray.
        let single = match case.form {
            CaseForm::Single => case.steps.first(),
            CaseForm::Steps => None,
        };
        let stray = case.stray.as_deref();
        let has_steps = case.form == CaseForm::Steps;
        let grant = single
            .and_then(|step| step.grant)
            .or(stray.and_then(|s| s.grant));
        if grant.is_some() && has_steps {
            self.push(self.doc.at_node(
                key("grant").or(case_node),
                SpecErrorKind::GrantAndSteps { case: name.clone() },
            ));
        } else if grant.is_none() && !has_steps {
            self.push(self.doc.at_node(
                case_node,
                SpecErrorKind::NoGrantNorSteps { case: name.clone() },
            ));
        }
        if let Some(stray) = stray {
            let fields = [
                ("with", !stray.with.is_empty()),
                ("request", stray.request.is_some()),
                ("expect", stray.expect.is_some()),
            ];
            for (field, present) in fields {
                if present {
                    self.push(self.doc.at_node(
                        key(field).or(case_node),
                        SpecErrorKind::IgnoredCaseField {
                            case: name.clone(),
                            field: field.to_owned(),
                        },
                    ));
                }
            }
        }
        if case.tags.contains(&Tag::MockOnly) && case.tags.contains(&Tag::LiveOnly) {
            self.push(self.doc.at_node(
                key("tags").or(case_node),
                SpecErrorKind::NeverRuns { case: name.clone() },
            ));
        } else if case.tags.contains(&Tag::MockOnly) && live_only {
            self.push(self.doc.at_node(
                key("tags").or(case_node),
                SpecErrorKind::MockOnlyWithoutMock { case: name.clone() },
            ));
        }

        if has_steps {
            let ids: Vec<&str> = case
                .steps
                .iter()
                .map(|s| s.id.as_deref().unwrap_or(""))
                .collect();
            for (number, step) in case.steps.iter().enumerate() {
                let step_path = [
                    Seg::Key("cases"),
                    Seg::Index(index),
                    Seg::Key("steps"),
                    Seg::Index(number),
                ];
                self.step_shape(name, number, step, &step_path);
                if let Some(id) = step.id.as_deref() {
                    if ids[..number].contains(&id) {
                        let node = self.doc.node(&[
                            Seg::Key("cases"),
                            Seg::Index(index),
                            Seg::Key("steps"),
                            Seg::Index(number),
                            Seg::Key("id"),
                        ]);
                        self.push(self.doc.at_node(
                            node.or_else(|| self.doc.closest(&step_path)),
                            SpecErrorKind::DuplicateStepId {
                                case: name.clone(),
                                id: id.to_owned(),
                            },
                        ));
                    }
                }
                let earlier: Vec<&str> = ids[..number]
                    .iter()
                    .copied()
                    .filter(|id| !id.is_empty())
                    .collect();
                let later: Vec<&str> = ids[number + 1..]
                    .iter()
                    .copied()
                    .filter(|id| !id.is_empty())
                    .collect();
                let scope = Scope::Step {
                    earlier: &earlier,
                    own: step.id.as_deref(),
                    later: &later,
                    single: false,
                };
                self.step_templates(
                    &step.with,
                    step.request.as_deref(),
                    step.resource.as_deref(),
                    &step_path,
                    &scope,
                );
                self.assertion_templates(step, &step_path, &scope);
                if let Some(authorize) = &step.authorize {
                    self.authorize_templates(authorize, &step_path, &scope);
                }
            }
        } else if let Some(step) = single.filter(|step| step.grant.is_some()) {
            let scope = Scope::Step {
                earlier: &[],
                own: None,
                later: &[],
                single: true,
            };
            self.step_templates(
                &step.with,
                step.request.as_deref(),
                None,
                &case_path,
                &scope,
            );
            self.assertion_templates(step, &case_path, &scope);
        }
    }

    /// A step does exactly one thing.
    fn step_shape(&mut self, case: &str, number: usize, step: &Step, path: &[Seg<'_>]) {
        if step.kind().is_some() {
            if step.grant.is_none() && !step.device_authorization {
                for field in ["with", "request"] {
                    let present = match field {
                        "with" => !step.with.is_empty(),
                        _ => step.request.is_some(),
                    };
                    if present {
                        self.push(self.doc.at_node(
                            self.doc.key(path, field).or_else(|| self.doc.closest(path)),
                            SpecErrorKind::IgnoredStepField {
                                case: case.to_owned(),
                                step: number + 1,
                                field: field.to_owned(),
                            },
                        ));
                    }
                }
            }
            return;
        }
        let actions: Vec<&str> = [
            ("grant", step.grant.is_some()),
            ("resource", step.resource.is_some()),
            ("advance", step.advance.is_some()),
            ("device_authorization", step.device_authorization),
            ("authorize", step.authorize.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let step_node = self.doc.closest(path);
        let kind = SpecErrorKind::StepActions {
            case: case.to_owned(),
            step: number + 1,
            actions: actions.iter().map(ToString::to_string).collect(),
        };
        let error = match actions.as_slice() {
            [] => self.doc.at_node(step_node, kind),
            [first, rest @ ..] => {
                let second = rest.first().copied().unwrap_or(first);
                self.doc
                    .at_node(self.doc.key(path, second).or(step_node), kind)
            }
        };
        self.push(error);
    }

    /// Every template of a step (or single-request case) at `path`: its
    /// `with`, `request` and `resource`.
    fn step_templates(
        &mut self,
        with: &SortedMap<String, ParamSpec>,
        request: Option<&RequestOverride>,
        resource: Option<&ResourceCall>,
        path: &[Seg<'_>],
        scope: &Scope<'_>,
    ) {
        let at = Place::under(path);
        for (name, value) in with {
            self.param(value, at.then(Seg::Key("with")).then(Seg::Key(name)), scope);
        }
        if let Some(request) = request {
            let at = at.then(Seg::Key("request"));
            for (name, value) in &request.add {
                self.param(value, at.then(Seg::Key("add")).then(Seg::Key(name)), scope);
            }
            if let Some(raw) = &request.raw_body {
                self.template(raw, at.then(Seg::Key("raw_body")), scope);
            }
            for (name, value) in &request.headers {
                let place = at.then(Seg::Key("headers")).then(Seg::Key(name));
                self.template(value, place, scope);
            }
        }
        if let Some(token) = resource.and_then(|r| r.token.as_ref()) {
            let place = at.then(Seg::Key("resource")).then(Seg::Key("token"));
            self.template(token, place, scope);
        }
    }

    /// The templates of a step's `client_assertion` and `assertion`.
    fn assertion_templates(&mut self, step: &Step, path: &[Seg<'_>], scope: &Scope<'_>) {
        for (key, assertion) in [
            ("client_assertion", &step.client_assertion),
            ("assertion", &step.assertion),
        ] {
            let Some(assertion) = assertion else {
                continue;
            };
            let at = Place::under(path).then(Seg::Key(key));
            let texts = [
                ("key", &assertion.key),
                ("key_file", &assertion.key_file),
                ("iss", &assertion.iss),
                ("sub", &assertion.sub),
                ("jti", &assertion.jti),
            ];
            for (field, text) in texts {
                if let Some(text) = text {
                    self.template(text, at.then(Seg::Key(field)), scope);
                }
            }
            if let Some(aud) = &assertion.aud {
                self.param(aud, at.then(Seg::Key("aud")), scope);
            }
        }
    }

    /// Every template of an `authorize` step at `path`.
    fn authorize_templates(
        &mut self,
        authorize: &AuthorizeCall,
        path: &[Seg<'_>],
        scope: &Scope<'_>,
    ) {
        let at = Place::under(path).then(Seg::Key("authorize"));
        self.template(&authorize.client_id, at.then(Seg::Key("client_id")), scope);
        if let Some(redirect_uri) = &authorize.redirect_uri {
            self.template(redirect_uri, at.then(Seg::Key("redirect_uri")), scope);
        }
        if let Some(state) = &authorize.state {
            self.template(state, at.then(Seg::Key("state")), scope);
        }
        for (index, item) in authorize.scope.iter().enumerate() {
            let place = at.then(Seg::Key("scope")).then(Seg::Index(index));
            self.template(item, place, scope);
        }
        for (name, value) in &authorize.params {
            let place = at.then(Seg::Key("params")).then(Seg::Key(name));
            self.template(value, place, scope);
        }
    }

    fn param(&mut self, value: &ParamSpec, place: Place<'_, '_>, scope: &Scope<'_>) {
        match value {
            ParamSpec::One(text) => self.template(text, place, scope),
            ParamSpec::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.template(item, place.then(Seg::Index(index)), scope);
                }
            }
        }
    }

    /// Whether `part` of a template in `scope` refers to something there:
    /// a defined variable (any, when `vars` could not be read), an earlier
    /// step's response, or anything from within a variable.
    fn resolves(&self, part: Part<'_>, scope: &Scope<'_>) -> bool {
        match part {
            Part::Var(name) => self.vars.is_none_or(|vars| vars.contains_key(name)),
            Part::Capture { step, .. } => match scope {
                Scope::Var => true,
                Scope::Outside(_) | Scope::Step { single: true, .. } => false,
                Scope::Step { earlier, .. } => earlier.contains(&step),
            },
            Part::Literal(_) | Part::Env(_) | Part::Secret(_) => true,
        }
    }

    /// Checks one `${…}` template, found at `place`.
    fn template(&mut self, text: &str, place: Place<'_, '_>, scope: &Scope<'_>) {
        if !text.as_bytes().contains(&b'$') {
            return;
        }
        // Most templates are sound: found so without copying a name or
        // joining a path, and most often they are one variable.
        if template::lone_var(text).is_some_and(|name| self.resolves(Part::Var(name), scope)) {
            return;
        }
        if template::pieces(text).all(|part| part.is_ok_and(|part| self.resolves(part, scope))) {
            return;
        }
        let path = place.path();
        let node = self.doc.node(&path);
        let parts = match template::pieces(text).collect::<Result<Vec<_>, _>>() {
            Ok(parts) => parts,
            Err(error) => {
                let needle = template_fault(text);
                self.push(self.at_in(node, &path, needle, SpecErrorKind::from(error)));
                return;
            }
        };
        for part in parts {
            if self.resolves(part, scope) {
                continue;
            }
            match part.to_piece() {
                Piece::Var(name) => {
                    let vars = self.vars.into_iter().flat_map(BTreeMap::keys);
                    let suggestion =
                        did_you_mean(&name, vars.map(String::as_str)).map(str::to_owned);
                    let needle = format!("${{{name}");
                    let kind = SpecErrorKind::UndefinedVariable { name, suggestion };
                    self.push(self.at_in(node, &path, &needle, kind));
                }
                Piece::Capture {
                    step,
                    path: members,
                } => {
                    let problem = match scope {
                        Scope::Var => continue,
                        Scope::Outside(place) => CaptureProblem::Outside {
                            place: (*place).to_owned(),
                        },
                        Scope::Step { single: true, .. } => CaptureProblem::SingleRequest,
                        Scope::Step {
                            earlier,
                            own,
                            later,
                            ..
                        } => {
                            if *own == Some(step.as_str()) {
                                CaptureProblem::OwnStep
                            } else if later.contains(&step.as_str()) {
                                CaptureProblem::LaterStep
                            } else {
                                CaptureProblem::NoSuchStep {
                                    suggestion: did_you_mean(&step, earlier.iter().copied())
                                        .map(str::to_owned),
                                    earlier: earlier.iter().map(ToString::to_string).collect(),
                                }
                            }
                        }
                    };
                    let needle = format!("${{{step}.");
                    let kind = SpecErrorKind::BadCapture {
                        step,
                        members,
                        problem,
                    };
                    self.push(self.at_in(node, &path, &needle, kind));
                }
                Piece::Literal(_) | Piece::Env(_) | Piece::Secret(_) => {}
            }
        }
    }

    /// An error at `needle` inside the scalar `node`, or at the node, or at
    /// the closest ancestor of `path`.
    fn at_in(
        &self,
        node: Option<&Node>,
        path: &[Seg<'_>],
        needle: &str,
        message: impl Into<SpecErrorKind>,
    ) -> SpecError {
        let Some(node) = node else {
            return self.doc.at_node(self.doc.closest(path), message);
        };
        let text = self.doc.text(node);
        let Some(offset) = text.find(needle) else {
            return self.doc.at_node(Some(node), message);
        };
        let before = &text[..offset];
        let mut pos = node.start;
        for c in before.chars() {
            pos.index += 1;
            if c == '\n' {
                pos.line += 1;
                pos.col = 0;
            } else {
                pos.col += 1;
            }
        }
        self.doc.at(pos, message)
    }
}

/// The part of a malformed template to point at: the `${` that is wrong.
fn template_fault(text: &str) -> &str {
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let candidate = &text[offset + start..];
        match after.find('}') {
            None => return candidate,
            Some(end) => {
                if template::parse(&candidate[..end + 3]).is_err() {
                    return &candidate[..end + 3];
                }
                offset += start + 2 + end + 1;
                rest = &text[offset..];
            }
        }
    }
    text
}

/// The loop of variables starting at `start`, if `start` is on one.
fn cycle_from(vars: &BTreeMap<String, Var>, start: &str) -> Option<Vec<String>> {
    fn refs(var: &Var) -> Vec<String> {
        let texts: Vec<&str> = match var {
            Var::Same(value) => vec![value],
            Var::PerTarget { mock, live } => vec![mock, live],
        };
        texts
            .into_iter()
            .filter_map(|text| template::parse(text).ok())
            .flatten()
            .filter_map(|piece| match piece {
                Piece::Var(name) => Some(name),
                _ => None,
            })
            .collect()
    }
    // Depth-first search for a path back to `start`.
    let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = std::collections::HashSet::new();
    while let Some((name, trail)) = stack.pop() {
        let Some(var) = vars.get(&name) else { continue };
        for next in refs(var) {
            if next == start {
                let mut cycle = trail.clone();
                cycle.push(next);
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = trail.clone();
                longer.push(next.clone());
                stack.push((next, longer));
            }
        }
    }
    None
}

/// Whether `text` is a day of the Gregorian calendar written `YYYY-MM-DD`.
fn is_day(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts[..] else {
        return false;
    };
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return false;
    }
    // All digits, at most four: each parses.
    let number = |part: &str| part.parse::<u32>().unwrap_or_default();
    let (year, month, day) = (number(year), number(month), number(day));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::is_day;

    #[test]
    fn days_are_real_calendar_days() {
        for day in ["2026-11-20", "2024-02-29", "2000-02-29", "1999-12-31"] {
            assert!(is_day(day), "{day}");
        }
        for not in [
            "2026-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-1-5",
            "20261120",
            "2026-11-2x",
            "yesterday",
            "2026-11-20T10:00",
        ] {
            assert!(!is_day(not), "{not}");
        }
    }
}
