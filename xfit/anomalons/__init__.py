"""UV side of xfit: anomaly cancellation, anomalon classification, finite naturalness,
unitarity ceilings and the chiral-tau models.

Modules (each names the equations it implements):

* :mod:`.rational`      exact helpers (fractions, rational square roots, charges linear in 𝒳)
* :mod:`.field_content` SM charges + extra Weyl fields, the YAML schema of ``xfit anomalons check``
* :mod:`.conditions`    Eqs. (2.2)-(2.6), (A.21) and the Witten anomaly, exact residuals
* :mod:`.criteria`      Sec. 2.2 criteria for one multiplet: charges, Eq. (2.10), Eq. (2.11)
* :mod:`.spectra`       ML fields / DL pairs, the objects of the classification
* :mod:`.classify`      App. A: solving (2.4)-(2.6), scans, Tables 2 and 3
* :mod:`.colored`       App. A, Eqs. (A.18)-(A.23)
* :mod:`.naturalness`   Eqs. (2.8)-(2.9) and its three readings
* :mod:`.naturalness_readings` which readings give the printed columns of Tables 2-3
* :mod:`.unitarity`     Eqs. (4.2), (4.5), (4.7), (4.10); Fig. 3 mass relation
* :mod:`.uv_models`     Sec. 4 models (Tables 5, 6) and chiral-tau models
* :mod:`.chiral_tau`    chiral-tau paper, Eqs. (31)-(39), Tables II-IV
"""
from .chiral_tau import (
                         ChiralTauSolution,
                         l_minus_4r_content,
                         l_only_content,
                         scan_chiral_tau,
                         solve_chiral_tau,
                         table_II,
)
from .classify import (
                         Candidate,
                         assess,
                         scan_1dl_2ml,
                         scan_1ml_1dl,
                         scan_two_dl,
                         solve_dl_with_ml,
                         solve_two_dl,
                         table2,
                         table3,
)
from .colored import colored, colored_solutions, su3_anomaly
from .conditions import AnomalyReport, check_anomalies
from .field_content import FieldContent, SMCharges, load_field_content, parse_field_content
from .naturalness import (
                         PLANCK,
                         TABLES,
                         WEAK_SCALE,
                         NaturalnessConvention,
                         delta_mh2,
                         fine_tuning,
                         naturalness_bound,
                         naturalness_bound_TeV,
)
from .unitarity import anomalon_mass, mass_ceiling, mass_from_yukawa, vev_X, yukawa_unitarity_bound
from .uv_models import BENCHMARKS

__all__ = [
    "AnomalyReport", "BENCHMARKS", "Candidate", "ChiralTauSolution", "FieldContent", "NaturalnessConvention",
    "PLANCK", "SMCharges", "TABLES", "WEAK_SCALE", "anomalon_mass", "assess", "check_anomalies", "colored",
    "colored_solutions", "delta_mh2", "fine_tuning", "l_minus_4r_content", "l_only_content",
    "load_field_content", "mass_ceiling", "mass_from_yukawa", "naturalness_bound", "naturalness_bound_TeV",
    "parse_field_content", "scan_1dl_2ml", "scan_1ml_1dl", "scan_chiral_tau", "scan_two_dl",
    "solve_chiral_tau", "solve_dl_with_ml", "solve_two_dl", "su3_anomaly", "table2", "table3", "table_II",
    "vev_X", "yukawa_unitarity_bound",
]
