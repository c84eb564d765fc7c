"""Villages Events Sync on an operator's machine: never in the Lambda layer, never imported by a
function.

``cli`` (the ``villages-sync`` console script), ``local`` (the local runtime: template.yaml read
and provisioned on emulators, handlers invoked as Lambda would), ``standin`` (the stand-in
calendar), and the helpers only they use: ``aws.dlq`` (replay-dlq), ``aws.queue_depth``
(monitor), ``calendar_api.contract``/``first_contact``/``cassettes`` (calendar check and record),
``run_diff`` (monitor), ``skill.certification`` (skill check), ``skill.envelopes`` (request
envelopes for local runs and tests). They import ``villages_sync``; it never imports them.
"""
