"""Social prescribing (issue 22): a community directory in the Open Referral UK data model,
referrals and link-worker caseloads on the one work model, ONS4 outcomes and reports."""
