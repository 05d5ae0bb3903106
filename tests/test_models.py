"""The contract's models: the unvalidated fast path makes the same objects."""

import copy
import pickle

from extractor.models import FieldSource, ProjectForm


def test_fieldsource_read_is_the_validated_object():
    for args in (("rules", 3, (1.5, 2.0, 30.25, 14.0), "1,234.5", None), ("ocr+rules", 1, None, None, 0.87)):
        fast = FieldSource.read(*args)
        slow = FieldSource(engine=args[0], page=args[1], bbox=args[2], raw=args[3], confidence=args[4])
        assert fast == slow
        assert fast.model_dump_json() == slow.model_dump_json()
        assert fast.model_fields_set == slow.model_fields_set
        assert pickle.loads(pickle.dumps(fast)) == slow
        assert copy.deepcopy(fast) == slow
        changed = fast.model_copy(update={"engine": "rules+llm"})
        assert changed.engine == "rules+llm" and fast.engine == args[0]
        # inside a form it validates, serialises and reads back like any other
        form = ProjectForm(provenance={"total_score": fast})
        again = ProjectForm.model_validate_json(form.model_dump_json())
        assert again.provenance["total_score"] == slow
