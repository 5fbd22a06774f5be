"""The partnership toolkit (Camden School Future Options report, para. 10: "a toolkit of supporting
resources for use by schools when considering and forming a partnership, such as template MOUs, resource
sharing agreements"): model documents for collaboration, shared resources, executive headship, federation
and amalgamation, downloadable as editable files (RTF, which every word processor opens, and plain text).

Text in [square brackets] is for the schools to fill in. The documents are models, not legal advice: each
says to check it with the council's legal, HR and finance leads before it is signed or consulted on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ModelDocument:
    slug: str
    title: str
    kind: str  # collaboration, shared services, executive headship, federation, amalgamation
    summary: str
    sections: tuple[Section, ...]


CHECK = (
    "This is a model document from the Camden partnership toolkit. Adapt it to your schools and check it "
    "with the council's legal, HR and finance leads (through Camden Learning) before it is agreed, signed "
    "or consulted on."
)

DOCUMENTS: tuple[ModelDocument, ...] = (
    ModelDocument(
        "scoping-discussion",
        "Scoping and vision discussion: agenda and record",
        "Any partnership",
        "For the first brokered conversation between schools: shared vision, what each school brings, "
        "the options to explore and the next steps.",
        (
            Section(
                "About this discussion",
                (
                    "Schools: [School A], [School B]. Date: [date]. Present: [headteachers, chairs of governors, "
                    "Camden Learning, council officer].",
                    CHECK,
                ),
            ),
            Section(
                "1. Why partnership, why now",
                (
                    "Pressures each school faces (pupil numbers and projections, budget, recruitment and leadership "
                    "succession, standards, buildings): [notes].",
                    "What we want to achieve for children and families that we cannot achieve alone: [notes].",
                ),
            ),
            Section(
                "2. Principles we share",
                (
                    "Keep each school's individuality and link with its community; strengthen Camden's identity and "
                    "collegiality; become more sustainable and resilient; share staff, expertise and resources; "
                    "develop leaders and governors; strengthen inclusion; no school left behind.",
                    "Our additions: [notes].",
                ),
            ),
            Section(
                "3. Options to explore",
                (
                    "Collaboration (memorandum of understanding); shared staff or services agreement; executive "
                    "headship; federation under one governing board; amalgamation. Which, and why: [notes].",
                ),
            ),
            Section(
                "4. Information we need",
                (
                    "Roll projections and surplus places, budgets and reserves, staffing structures, premises, "
                    "admissions and faith designations, views of staff, parents and the community: [owner, date].",
                ),
            ),
            Section("5. Next steps", ("[Action, owner, date]",)),
        ),
    ),
    ModelDocument(
        "collaboration-mou",
        "Memorandum of understanding for a collaboration",
        "Collaboration (soft partnership)",
        "A non-binding agreement between schools to work together, with aims, areas of work, governance "
        "and review.",
        (
            Section(
                "Parties",
                (
                    "This memorandum is between the governing boards of [School A] (URN [ ]) and [School B] "
                    '(URN [ ]), referred to together as "the partner schools".',
                    CHECK,
                ),
            ),
            Section(
                "1. Purpose",
                (
                    "The partner schools agree to work together to [aims: e.g. improve outcomes in early reading, "
                    "share specialist staff, develop middle leaders]. This memorandum is a statement of intent and "
                    "does not create legal obligations, except where a separate agreement says so.",
                ),
            ),
            Section(
                "2. Areas of collaboration",
                (
                    "[e.g. joint professional development; moderation of assessment; shared subject leadership; "
                    "joint procurement; pupil activities; inclusion and SEND support].",
                ),
            ),
            Section(
                "3. Governance and leadership",
                (
                    "A steering group of the headteachers and one governor from each school meets [termly]. Each "
                    "governing board remains responsible for its own school. Decisions with cost are agreed in "
                    "writing by each headteacher within their delegated budget authority.",
                ),
            ),
            Section(
                "4. Resources and costs",
                (
                    "Costs are shared [equally / in proportion to pupils on roll / as agreed for each activity]. "
                    "Staff remain employed by their own school unless a resource sharing agreement says otherwise.",
                ),
            ),
            Section(
                "5. Data, safeguarding and complaints",
                (
                    "Personal data is shared only as the schools' data protection policies and a data sharing "
                    "agreement allow. Each school's safeguarding policy applies to its pupils and staff on any site.",
                ),
            ),
            Section(
                "6. Review and ending",
                (
                    "The memorandum is reviewed every [12 months]. Either school may end it with [one term's] "
                    "written notice.",
                ),
            ),
            Section(
                "Signed",
                (
                    "For [School A]: chair of governors [name, date]; headteacher [name, date].",
                    "For [School B]: chair of governors [name, date]; headteacher [name, date].",
                ),
            ),
        ),
    ),
    ModelDocument(
        "resource-sharing-agreement",
        "Resource sharing agreement (shared staff or services)",
        "Shared staff or services",
        "Who employs a shared member of staff or service, how time and costs are split, and how it ends.",
        (
            Section("Parties", ("[Employing school] (the employer) and [Partner school(s)].", CHECK)),
            Section(
                "1. What is shared",
                ("[Role or service: e.g. SENCo 0.4 FTE; business manager; site team; premises; minibus].",),
            ),
            Section("2. Time and location", ("[Days or hours at each school; how changes are agreed].",)),
            Section(
                "3. Employment",
                (
                    "The employer remains the employer and applies its own policies (pay, appraisal, absence, "
                    "conduct). Day-to-day direction at the partner school is by [role].",
                ),
            ),
            Section(
                "4. Costs and invoicing",
                (
                    "The partner school pays [share]% of salary and on-costs, invoiced [termly] in arrears. "
                    "Cover for absence: [arrangement].",
                ),
            ),
            Section(
                "5. Safeguarding, data, insurance",
                (
                    "Checks are recorded on each school's single central record. Each school's insurance covers "
                    "activities on its site. Personal data is shared under [data sharing agreement].",
                ),
            ),
            Section(
                "6. Review, disputes and ending",
                (
                    "Reviewed [annually]. Disputes go first to the headteachers, then the chairs of governors. "
                    "Either party may end the agreement with [a term's] notice; redundancy costs, if any, are shared "
                    "[as agreed].",
                ),
            ),
        ),
    ),
    ModelDocument(
        "executive-headship",
        "Executive headship: agreement and steps",
        "Executive headship",
        "One headteacher leading two or more schools with separate governing boards: the steps and a model "
        "agreement.",
        (
            Section("Parties", ("[School A] and [School B] governing boards.", CHECK)),
            Section(
                "Steps",
                (
                    "1. Governing boards agree in principle and inform the local authority (and diocese, if any).",
                    "2. Agree the role, pay (School Teachers' Pay and Conditions Document), line management of "
                    "heads of school, and the split of costs.",
                    "3. Appoint (or second) the executive head through a joint panel; appoint heads of school.",
                    "4. Consult staff affected, as HR advises.",
                    "5. Tell parents; review after [one year].",
                ),
            ),
            Section(
                "Model agreement",
                (
                    "The executive head is employed by [School A] and leads both schools for [term]. Costs are "
                    "shared [basis]. Each governing board keeps its own responsibilities and appraises the executive "
                    "head jointly through [panel].",
                ),
            ),
        ),
    ),
    ModelDocument(
        "federation-steps",
        "Federation: steps, consultation letter and resolution",
        "Federation (one governing board)",
        "Maintained schools federating under one governing board: the statutory steps, a consultation "
        "letter and the governing boards' resolution.",
        (
            Section(
                "About federation",
                (
                    "In a federation two or more maintained schools keep their own identity, budget, admissions "
                    "and Ofsted inspections but share one governing board (School Governance (Federations) "
                    "(England) Regulations 2012). Schools with a religious character need their foundation's "
                    "agreement.",
                    CHECK,
                ),
            ),
            Section(
                "Steps and timeline",
                (
                    "1. Each governing board resolves to consider federation and agrees a proposal (weeks 1-4).",
                    "2. Consultation with parents, staff, the local authority, the diocese (if any) and the "
                    "community, for at least [six weeks] (weeks 5-10).",
                    "3. Each governing board considers the responses and decides whether to federate (week 11).",
                    "4. Instrument of government for the federated board; elections and appointments (weeks 12-16).",
                    "5. Date of federation: the old governing boards are dissolved and the new board takes "
                    "office.",
                ),
            ),
            Section(
                "Consultation letter (model)",
                (
                    "Dear parents, carers and staff of [School A] and [School B]. The governing boards propose "
                    "that the schools federate under one governing board from [date]. Each school will keep its "
                    "name, uniform, admissions and budget. Why: [reasons]. What changes: [leadership, governance]. "
                    "What does not change: [ ]. Please send your views by [date] to [address]. A meeting will be "
                    "held on [date].",
                ),
            ),
            Section(
                "Resolution (model)",
                (
                    "The governing board of [School] resolves to federate with [School] under a single governing "
                    "board from [date], having considered the responses to consultation. Proposed by [ ], "
                    "seconded by [ ]. For [ ], against [ ], abstaining [ ].",
                ),
            ),
        ),
    ),
    ModelDocument(
        "amalgamation-steps",
        "Amalgamation: steps and checklist",
        "Amalgamation",
        "Two schools becoming one: the statutory process for maintained schools, the decisions to make and a "
        "checklist.",
        (
            Section(
                "About amalgamation",
                (
                    "For maintained schools, an amalgamation is usually made by closing one school and enlarging "
                    "(or changing the age range of) the other, or closing both and opening a new school, through "
                    "statutory proposals under the School Organisation regulations and the Department for "
                    "Education's guidance 'Opening and closing maintained schools'. The decision maker is normally "
                    "the local authority. Academies follow the Department for Education's significant change process.",
                    CHECK,
                ),
            ),
            Section(
                "Steps",
                (
                    "1. Pre-consultation with governing boards, staff, parents, the diocese (if any) and the "
                    "community: the case for change, the options and their evidence (pupil projections, finances, "
                    "premises, standards).",
                    "2. Publication of statutory proposals and a representation period of four weeks.",
                    "3. Decision within two months of the end of the representation period, with reasons.",
                    "4. Implementation: staffing (TUPE or restructure), admissions, governance, budget, premises, "
                    "name and uniform, communications.",
                ),
            ),
            Section(
                "Checklist",
                (
                    "[ ] Roll projections and surplus places for both schools, with their range",
                    "[ ] Budget forecasts and reserves; one-off costs and how they are funded",
                    "[ ] Staffing structure and HR consultation plan",
                    "[ ] Admission arrangements and in-year transfers",
                    "[ ] Faith designation and diocese agreement (if any)",
                    "[ ] Premises: which site(s), capacity, access, transport",
                    "[ ] Equality impact assessment",
                    "[ ] Communications plan for pupils, parents, staff and the community",
                ),
            ),
        ),
    ),
)
BY_SLUG = {d.slug: d for d in DOCUMENTS}


def as_text(doc: ModelDocument) -> str:
    lines = [doc.title, "=" * len(doc.title), "", doc.summary, ""]
    for s in doc.sections:
        lines += [s.heading, "-" * len(s.heading), *(p + "\n" for p in s.paragraphs)]
    return "\n".join(lines).rstrip() + "\n"


def _rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) > 127:
            code = ord(ch)
            out.append(f"\\u{code if code < 32768 else code - 65536}?")
        else:
            out.append(ch)
    return "".join(out)


def as_rtf(doc: ModelDocument) -> str:
    """A Rich Text Format file (opens, editable, in Word, LibreOffice and Pages)."""
    parts = [
        r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\fs24",
        r"{\pard\sa240\b\fs36 " + _rtf_escape(doc.title) + r"\par}",
        r"{\pard\sa200\i " + _rtf_escape(doc.summary) + r"\par}",
    ]
    for s in doc.sections:
        parts.append(r"{\pard\sb240\sa120\b\fs28 " + _rtf_escape(s.heading) + r"\par}")
        parts += [r"{\pard\sa160 " + _rtf_escape(p) + r"\par}" for p in s.paragraphs]
    parts.append("}")
    return "\n".join(parts) + "\n"
