# Early-exit policy as personal data arrive
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$rounds << EOD
1 57.48730704350022 6.489520787730676 95.4 0.8662279407642601
2 51.927300251308694 6.094891613581476 95.55 0.8209428530264049
3 51.849157352943614 6.243719064269691 95.96666666666667 0.7796626938470168
4 50.701548420944 5.979113867718633 95.85 0.7956145348727985
5 49.92723809997224 6.106137990043539 95.875 0.8198830100146486
EOD
set title "Early-exit policy as personal data arrive"
set xlabel "data-growth round (personal data arrive each round)"
set ylabel "percent"
set xtics 1
set yrange [0:105]
set grid
set key outside top center horizontal
set style fill transparent solid 0.2 noborder
plot $rounds using 1:($2-$3):($2+$3) with filledcurves linecolor rgb "#3366aa" title "FLOPs 95% CI", \
     $rounds using 1:2 with linespoints pointtype 7 linewidth 2 linecolor rgb "#3366aa" title "policy FLOPs (% of the full network)", \
     $rounds using 1:($4-$5):($4+$5) with filledcurves linecolor rgb "#aa6633" title "accuracy 95% CI", \
     $rounds using 1:4 with linespoints pointtype 5 linewidth 2 linecolor rgb "#aa6633" title "policy test accuracy (%)"
