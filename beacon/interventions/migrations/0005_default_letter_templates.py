"""Default letter templates as data (issue 13): every letter kind exists from the start, so no page creates
a template when it is read. Templates never edited (still the earlier default text) move to the new text:
dated, addressed to the headteacher and the chair of governors, with Appendix C's content in the notice."""

from django.db import migrations

DEFAULTS = {
    "categorisation": (
        "{{ school_name }}: {{ level }} support following the SRAS meeting",
        "{{ head_name }}, Headteacher\n"
        "{{ chair_name }}\n"
        "{{ school_name }}\n"
        "{{ school_address }}\n"
        "\n"
        "{{ letter_date }}\n"
        "\n"
        "Dear {{ head_name }} and {{ chair_name }},\n"
        "\n"
        "The School Risk Assessment and Support (SRAS) meeting on {{ sras_meeting_date }} "
        "considered {{ school_name }} in the {{ term }} risk assessment. The school is "
        "categorised {{ rag }} and will receive {{ level }} support.\n"
        "\n"
        "The reasons for this decision: {{ rationale }}\n"
        "\n"
        "What follows: {{ what_follows }}\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "{{ signatory }}",
    ),
    "congratulations": (
        "Congratulations",
        "{{ head_name }}, Headteacher\n"
        "{{ chair_name }}\n"
        "{{ school_name }}\n"
        "{{ school_address }}\n"
        "\n"
        "{{ letter_date }}\n"
        "\n"
        "Dear {{ head_name }} and {{ chair_name }},\n"
        "\n"
        "I am writing to congratulate you, your staff and governors on the improvement at {{ "
        "school_name }}, whether in its Ofsted outcome or in pupils' performance, including "
        "that of disadvantaged pupils.\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "{{ signatory }}",
    ),
    "initial_meeting": (
        "{{ level }} support: invitation to the initial meeting",
        "{{ head_name }}, Headteacher\n"
        "{{ chair_name }}\n"
        "{{ school_name }}\n"
        "{{ school_address }}\n"
        "\n"
        "{{ letter_date }}\n"
        "\n"
        "Dear {{ head_name }} and {{ chair_name }},\n"
        "\n"
        "Following the termly risk assessment, {{ school_name }} will receive {{ level }} "
        "support from Camden Learning. I would like to invite you to the initial meeting on {{ "
        "meeting_date }}, to agree the key priorities and the expected end of support outcomes, "
        "the support package from Camden Learning and its partners, and the dates of the review "
        "meetings.\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "{{ signatory }}",
    ),
    "meeting_summary": (
        "Summary of the support review meeting on {{ meeting_date }}",
        "{{ head_name }}, Headteacher\n"
        "{{ chair_name }}\n"
        "{{ school_name }}\n"
        "{{ school_address }}\n"
        "\n"
        "{{ letter_date }}\n"
        "\n"
        "Dear {{ head_name }} and {{ chair_name }},\n"
        "\n"
        "Thank you for the {{ level }} support meeting on {{ meeting_date }}. The agreed "
        "priorities are: {{ priorities }}.\n"
        "\n"
        "Overall progress: {{ progress }}.\n"
        "\n"
        "Next steps: {{ next_steps }}\n"
        "\n"
        "The next meeting is on {{ next_meeting_date }}.\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "{{ signatory }}",
    ),
    "significant_concerns": (
        "Significant concerns about {{ school_name }}",
        "{{ head_name }}, Headteacher\n"
        "{{ chair_name }}\n"
        "{{ school_name }}\n"
        "{{ school_address }}\n"
        "\n"
        "{{ letter_date }}\n"
        "\n"
        "Dear {{ head_name }} and {{ chair_name }},\n"
        "\n"
        "The local authority has significant concerns about {{ school_name }}: {{ concerns "
        "}}\n"
        "\n"
        "I would ask the governing body to set out, within the next four weeks, the steps "
        "it is taking to address these concerns.\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "{{ signatory }}",
    ),
    "warning_notice": (
        "{{ notice_kind }}: {{ school_name }} (URN {{ urn }})",
        "{{ head_name }}, Headteacher\n"
        "{{ chair_name }}\n"
        "{{ school_name }}\n"
        "{{ school_address }}\n"
        "\n"
        "{{ letter_date }}\n"
        "\n"
        "Dear {{ head_name }} and the governing body,\n"
        "\n"
        "The local authority gives this {{ notice_kind|lower }} on {{ issued_on }} under the "
        "Education and Inspections Act 2006 on the grounds of: {{ grounds }}.\n"
        "\n"
        "The concerns: {{ concerns }}\n"
        "\n"
        "The action required of the governing body: {{ required_action }}\n"
        "\n"
        "The compliance period: {{ compliance_period }}. The governing body must comply with "
        "this notice by {{ compliance_ends_on }}.\n"
        "\n"
        "If it does not: {{ consequences }}\n"
        "\n"
        "Yours sincerely,\n"
        "\n"
        "{{ signatory }}",
    ),
}

# The earlier default texts (before issue 13): a template still holding one was never edited.
EARLIER = {
    "congratulations": (
        "Congratulations",
        "Dear {{ head_name }},\n"
        "\n"
        "I am writing to congratulate you, your staff and governors on the improvement at {{ "
        "school_name }}, whether in its Ofsted outcome or in pupils' performance, including "
        "that of disadvantaged pupils.\n"
        "\n"
        "Yours sincerely,\n"
        "{{ signatory }}",
    ),
    "initial_meeting": (
        "{{ level }} support: initial meeting",
        "Dear {{ head_name }},\n"
        "\n"
        "Following the termly risk assessment, {{ school_name }} will receive {{ level }} "
        "support from Camden Learning. I would like to invite you and your chair of governors "
        "to an initial meeting on {{ meeting_date }} to agree up to the maximum number of "
        "priorities, the end-of-year aims, the support package and the schedule of review "
        "meetings.\n"
        "\n"
        "Yours sincerely,\n"
        "{{ signatory }}",
    ),
    "meeting_summary": (
        "Summary of the support meeting on {{ meeting_date }}",
        "Dear {{ head_name }},\n"
        "\n"
        "Thank you for the meeting on {{ meeting_date }}. The agreed priorities are: {{ "
        "priorities }}.\n"
        "\n"
        "Next steps: {{ next_steps }}\n"
        "\n"
        "Yours sincerely,\n"
        "{{ signatory }}",
    ),
    "significant_concerns": (
        "Significant concerns about {{ school_name }}",
        "Dear {{ head_name }},\n"
        "\n"
        "The local authority has significant concerns about {{ school_name }}: {{ grounds "
        "}}. I would ask the governing body to set out, within the next four weeks, the "
        "steps it is taking to address these concerns.\n"
        "\n"
        "Yours sincerely,\n"
        "{{ signatory }}",
    ),
    "warning_notice": (
        "Warning notice: {{ school_name }} (URN {{ urn }})",
        "Dear {{ head_name }} and the governing body,\n"
        "\n"
        "The local authority gives this warning notice under section 60 of the Education and "
        "Inspections Act 2006 on the grounds of: {{ grounds }}.\n"
        "\n"
        "The governing body must comply with the requirements of this notice by {{ "
        "compliance_ends_on }}. If it fails to do so, the school becomes eligible for "
        "intervention.\n"
        "\n"
        "Yours sincerely,\n"
        "{{ signatory }}",
    ),
}


def forwards(apps, schema_editor):
    from django.utils import timezone

    LetterTemplate = apps.get_model("interventions", "LetterTemplate")
    History = apps.get_model("interventions", "HistoricalLetterTemplate")
    for kind, (subject, body) in DEFAULTS.items():
        tpl = LetterTemplate.objects.filter(kind=kind).first()
        if tpl is None:
            tpl, change, reason = LetterTemplate(kind=kind, subject=subject, body=body), "+", "Default text"
        elif (tpl.subject, tpl.body) == EARLIER.get(kind):
            tpl.subject, tpl.body, tpl.version = subject, body, tpl.version + 1
            change, reason = "~", "Default text: dated and addressed (issue 13)"
        else:
            continue  # edited by the council: kept
        tpl.save()
        History.objects.create(
            id=tpl.pk, kind=tpl.kind, subject=tpl.subject, body=tpl.body, version=tpl.version,
            history_date=timezone.now(), history_type=change, history_change_reason=reason,
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("interventions", "0004_notice_consequences_categorisation_letter")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
