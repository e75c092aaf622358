# Early-exit policy as personal data arrive
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$rounds << EOD
1 55.60132030086076 8.54906096648658 95.1625 1.1245480431689008
2 51.566501588600815 7.7745538028594545 95.625 1.0524860011660835
3 48.75663837026404 7.601171098073685 95.75 1.0106969537253296
4 49.190544258812 7.599297546090465 95.575 1.0233007322476917
5 50.80214042062837 7.976942993205372 95.8875 0.9860618235179206
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
